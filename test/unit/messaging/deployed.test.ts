import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type MessagingPolicyResourceEvent,
  messagingPolicyResource,
} from '../../../shared/messaging/deployed.js';
import type { MessagingPolicy } from '../../../shared/messaging/policy.js';

function event(requestType: 'Create' | 'Update' | 'Delete', policy: unknown): MessagingPolicyResourceEvent {
  return {
    RequestType: requestType,
    ResponseURL: 'https://cloudformation.example/response',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/cairn/1',
    RequestId: `req-${requestType}`,
    LogicalResourceId: 'MessagingPolicy',
    ResourceType: 'Custom::CairnMessagingPolicy',
    ...(requestType !== 'Create' && { PhysicalResourceId: 'cairn-messaging-policy' }),
    ResourceProperties: { Policy: JSON.stringify(policy) },
  } as MessagingPolicyResourceEvent;
}

function store() {
  const puts: { policy: MessagingPolicy; at: string }[] = [];
  return {
    puts,
    async putPolicy(policy: MessagingPolicy, at: string) {
      puts.push({ policy, at });
    },
  };
}

const now = () => Date.parse('2026-12-02T03:00:00Z');

describe('Custom::CairnMessagingPolicy (the messaging policy as code)', () => {
  it('Create and Update store the policy with its defaults, as PUT /messaging/policy does', async () => {
    const policies = store();
    const created = await messagingPolicyResource(
      event('Create', { frequencyCaps: [{ channel: 'sms', max: 4, per: 'P7D' }] }),
      policies,
      now,
    );
    assert.equal(created.Status, 'SUCCESS');
    assert.equal(created.PhysicalResourceId, 'cairn-messaging-policy');
    const updated = await messagingPolicyResource(
      event('Update', { quietHours: { start: '21:00', end: '08:00' } }),
      policies,
      now,
    );
    assert.equal(updated.Status, 'SUCCESS');
    assert.deepEqual(policies.puts, [
      {
        policy: { frequencyCaps: [{ channel: 'sms', max: 4, per: 'P7D' }], topics: [] },
        at: '2026-12-02T03:00:00.000Z',
      },
      {
        policy: {
          frequencyCaps: [],
          topics: [],
          quietHours: { start: '21:00', end: '08:00', fallbackTimezone: 'UTC', action: 'hold' },
        },
        at: '2026-12-02T03:00:00.000Z',
      },
    ]);
  });

  it('a bad policy fails the deploy with every problem and its path, storing nothing', async () => {
    const policies = store();
    const failed = await messagingPolicyResource(
      event('Update', {
        frequencyCaps: [{ channel: 'any', max: 0, per: 'P1D' }],
        quietHours: { start: '9pm' },
      }),
      policies,
      now,
    );
    assert.equal(failed.Status, 'FAILED');
    assert.match(failed.Reason ?? '', /^messaging policy: .*frequencyCaps\[0\]\.max: .*quietHours\.start: /);
    assert.equal(policies.puts.length, 0);
  });

  it('Delete leaves the stored policy as it is', async () => {
    const policies = store();
    const deleted = await messagingPolicyResource(event('Delete', {}), policies, now);
    assert.equal(deleted.Status, 'SUCCESS');
    assert.equal(policies.puts.length, 0);
  });
});
