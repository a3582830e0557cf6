import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSesEvent } from '../../../shared/channels/email-events.js';
import { readInboundSms } from '../../../shared/channels/sms/inbound.js';
import { readSmsReceipt } from '../../../shared/channels/sms/receipts.js';
import { matchesPattern } from '../../../shared/patterns/index.js';
import { feedbackRuleFor } from '../../../shared/routing.js';
import { applyFeedback } from '../../../shared/runtime/feedback.js';
import { memoryRuntimeStore } from '../../../shared/runtime/memory.js';

const tags = { execution: ['j-v1-abc'], nodeId: ['mail'], journeyId: ['j'] };
const ses = (detail: Record<string, unknown>) => ({
  source: 'aws.ses',
  time: '2026-12-01T10:00:00Z',
  detail: { mail: { tags }, ...detail },
});
const receipt = (eventType: string, to = '+33612340000') => ({
  source: 'aws.sms-voice',
  'detail-type': 'Text Message Delivery Status Updated',
  detail: {
    eventType,
    eventTimestamp: Date.parse('2026-12-01T10:00:02Z'),
    isFinal: true,
    destinationPhoneNumber: to,
    context: { execution: 'j-v1-abc', nodeId: 'text', journeyId: 'j' },
  },
});

describe('provider feedback read per channel', () => {
  it('a permanent SES bounce suppresses the bounced address; a transient one only records', () => {
    const hard = readSesEvent(
      ses({
        eventType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [{ emailAddress: 'Ada <Ada@Example.com>' }],
        },
      }),
    );
    assert.deepEqual(hard, {
      channel: 'email',
      event: 'Bounce',
      outcome: 'bounced',
      message: { executionName: 'j-v1-abc', nodeId: 'mail', journeyId: 'j' },
      at: '2026-12-01T10:00:00.000Z',
      detail: 'Permanent/General',
      suppress: { reason: 'hard_bounce', addresses: ['Ada@Example.com'] },
    });
    const soft = readSesEvent(
      ses({
        eventType: 'Bounce',
        bounce: {
          bounceType: 'Transient',
          bounceSubType: 'MailboxFull',
          bouncedRecipients: [{ emailAddress: 'a@example.com' }],
        },
      }),
    );
    assert.equal(soft?.outcome, 'bounced');
    assert.equal(soft?.suppress, undefined);
  });

  it('an SES complaint suppresses the complaining address', () => {
    const complaint = readSesEvent(
      ses({
        eventType: 'Complaint',
        complaint: { complainedRecipients: [{ emailAddress: 'a@example.com' }] },
      }),
    );
    assert.deepEqual(complaint?.suppress, { reason: 'complaint', addresses: ['a@example.com'] });
    assert.equal(readSesEvent(ses({ eventType: 'Send' })), undefined);
  });

  it('SMS receipts: delivered, pending ignored, permanent failures suppress, others only fail', () => {
    assert.equal(readSmsReceipt(receipt('TEXT_DELIVERED'))?.outcome, 'delivered');
    assert.equal(readSmsReceipt(receipt('TEXT_SUCCESSFUL'))?.suppress, undefined);
    assert.equal(readSmsReceipt(receipt('TEXT_PENDING')), undefined);
    const invalid = readSmsReceipt(receipt('TEXT_INVALID'));
    assert.equal(invalid?.outcome, 'failed');
    assert.equal(invalid?.message?.executionName, 'j-v1-abc', 'found by the Context the send carried');
    assert.equal(invalid?.at, '2026-12-01T10:00:02.000Z');
    assert.deepEqual(invalid?.suppress, { reason: 'permanent_failure', addresses: ['+33612340000'] });
    assert.deepEqual(readSmsReceipt(receipt('TEXT_BLOCKED'))?.suppress?.reason, 'permanent_failure');
    const unreachable = readSmsReceipt(receipt('TEXT_UNREACHABLE'));
    assert.equal(unreachable?.outcome, 'failed');
    assert.equal(unreachable?.suppress, undefined);
    assert.equal(
      readSmsReceipt({ ...receipt('TEXT_DELIVERED'), 'detail-type': 'Registration Status Change' }),
      undefined,
    );
  });

  it('reads the two-way SMS notification, naming the field that is wrong', () => {
    assert.deepEqual(
      readInboundSms(
        JSON.stringify({
          originationNumber: '+33612345678',
          destinationNumber: '+12125550101',
          messageKeyword: 'KEYWORD_STOP',
          messageBody: 'Stop',
          inboundMessageId: 'in-1',
        }),
      ),
      { from: '+33612345678', body: 'Stop', to: '+12125550101', messageId: 'in-1' },
    );
    assert.throws(
      () => readInboundSms('{"originationNumber":"0612","messageBody":"x"}'),
      /originationNumber/,
    );
    assert.throws(() => readInboundSms('{"originationNumber":"+33612345678"}'), /messageBody/);
  });
});

describe('applyFeedback', () => {
  it('suppresses first, then records the message once and counts it once', async () => {
    const store = memoryRuntimeStore();
    const suppressed: unknown[] = [];
    const deps = {
      store,
      suppressions: { suppress: async (...args: unknown[]) => void suppressed.push(args) },
      clock: { now: () => 0 },
    };
    await store.claimMessage({
      profileId: 'p',
      executionName: 'j-v1-abc',
      nodeId: 'text',
      journeyId: 'j',
      journeyVersion: 1,
      messageId: 'm',
      channel: 'email',
      templateId: 't',
      status: 'sending',
      createdAt: '2026-12-01T10:00:00.000Z',
      history: [{ status: 'sending', at: '2026-12-01T10:00:00.000Z' }],
    });
    assert.equal(await applyFeedback(receipt('TEXT_INVALID'), deps), 'recorded');
    assert.equal(await applyFeedback(receipt('TEXT_INVALID'), deps), 'duplicate');
    assert.deepEqual(suppressed[0], ['sms', '+33612340000', 'permanent_failure', '2026-12-01T10:00:02.000Z']);
    // A late delivery report does not hide the failure.
    await applyFeedback(receipt('TEXT_DELIVERED'), deps);
    const message = await store.getMessage('j-v1-abc', 'text');
    assert.equal(message?.status, 'failed');
    assert.deepEqual(
      message?.history.map((h) => [h.status, h.detail]),
      [
        ['sending', undefined],
        ['failed', 'TEXT_INVALID'],
        ['delivered', undefined],
      ],
    );
    assert.equal(await applyFeedback({ source: 'aws.other', detail: {} }, deps), 'ignored');
  });
});

describe('the feedback rule on the default bus', () => {
  const rule = feedbackRuleFor({ email: 'cairn-email-set' });
  const sesEvent = (configurationSet: string | undefined) => ({
    source: 'aws.ses',
    'detail-type': 'Email Bounced',
    detail: {
      eventType: 'Bounce',
      mail: {
        tags: { ...tags, ...(configurationSet && { 'ses:configuration-set': [configurationSet] }) },
      },
    },
  });

  it('takes SES events of Cairn’s configuration set only, never another sender’s of the account', () => {
    assert.equal(matchesPattern(rule.eventPattern, sesEvent('cairn-email-set')), true);
    assert.equal(matchesPattern(rule.eventPattern, sesEvent('billing-app')), false);
    assert.equal(matchesPattern(rule.eventPattern, sesEvent(undefined)), false);
    // SES's own account events (no mail) are not feedback either.
    const advisor = { source: 'aws.ses', 'detail-type': 'Sending Status Disabled', detail: {} };
    assert.equal(matchesPattern(rule.eventPattern, advisor), false);
  });

  it('takes End User Messaging SMS delivery receipts, nothing else of the service', () => {
    assert.equal(matchesPattern(rule.eventPattern, receipt('TEXT_DELIVERED')), true);
    const registration = { source: 'aws.sms-voice', 'detail-type': 'Registration Status Change', detail: {} };
    assert.equal(matchesPattern(rule.eventPattern, registration), false);
  });
});
