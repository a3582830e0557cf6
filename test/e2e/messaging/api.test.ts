import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniqueId, waitForIdle } from '../../support/local.js';
import { issueFields } from '../api/client.js';
import { messagingStack } from './stack.js';

describe('messaging API: policy, suppressions, inbound SMS', () => {
  const stack = messagingStack();

  it('stores the policy and answers it with defaults filled', async () => {
    const policy = {
      frequencyCaps: [
        { channel: 'any', max: 2, per: 'P1D' },
        { channel: 'sms', max: 4, per: 'P7D' },
      ],
      quietHours: { start: '21:00', end: '08:00', fallbackTimezone: 'UTC', action: 'hold' },
      topics: [{ id: 'newsletter', name: 'Newsletter' }],
    };
    const put = await stack.api.put('/messaging/policy', policy);
    assert.equal(put.status, 200);
    const got = await stack.api.get('/messaging/policy');
    assert.deepEqual(got.body, policy);
    const needsToken = await stack.api.get('/messaging/policy', null);
    assert.equal(needsToken.status, 401);
  });

  it('refuses a bad policy with every problem and its path, keeping the stored one', async () => {
    const before = (await stack.api.get('/messaging/policy')).body;
    const bad = await stack.api.put('/messaging/policy', {
      frequencyCaps: [{ channel: 'fax', max: 0, per: 'P1M' }],
      quietHours: { start: '9pm', end: '08:00', action: 'later' },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(issueFields(bad).sort(), [
      'frequencyCaps[0].channel',
      'frequencyCaps[0].max',
      'frequencyCaps[0].per',
      'quietHours.action',
      'quietHours.start',
    ]);
    assert.deepEqual((await stack.api.get('/messaging/policy')).body, before);
  });

  it('STOP by SMS suppresses the number on the profile, answers, and START lifts it', async () => {
    const userId = uniqueId('sms-user');
    const phone = `+336${String(Date.now()).slice(-8)}`;
    const identify = await stack.api.post('/v1/identify', { userId, traits: { phone } });
    assert.equal(identify.status, 200);
    await waitForIdle(stack.httpUrl);
    const profile = await stack.api.get(`/profiles?userId=${userId}`);
    assert.equal(profile.status, 200);
    const profileId = profile.body.profileId as string;

    const stop = await stack.api.post('/local/sms/inbound', { from: phone, body: 'STOP' });
    assert.equal(stop.status, 200);
    assert.deepEqual(stop.body, { keyword: 'opt-out', knownProfile: true, replied: true });
    const suppressions = await stack.api.get(`/profiles/${profileId}/suppressions`);
    assert.deepEqual(
      suppressions.body.suppressions.map((s: { channel: string; address: string; reason: string }) => [
        s.channel,
        s.address,
        s.reason,
      ]),
      [['sms', phone, 'opted_out']],
    );
    const outbox = await stack.api.get(`/local/outbox?channel=sms&to=${encodeURIComponent(phone)}`);
    assert.match(outbox.body.messages[0]?.text ?? '', /unsubscribed/);
    await waitForIdle(stack.httpUrl);
    const timeline = await stack.api.get(`/profiles/${profileId}/timeline?limit=20`);
    const names = JSON.stringify(timeline.body);
    assert.match(names, /"Unsubscribed"/);
    assert.match(names, /"SMS Received"/);

    await stack.api.post('/local/sms/inbound', { from: phone, body: 'START' });
    assert.deepEqual((await stack.api.get(`/profiles/${profileId}/suppressions`)).body.suppressions, []);
  });

  it('HELP is answered with the help text and changes nothing', async () => {
    const phone = `+336${String(Date.now() + 7).slice(-8)}`;
    const help = await stack.api.post('/local/sms/inbound', { from: phone, body: ' help me ' });
    assert.equal(help.status, 200);
    assert.deepEqual(help.body, { keyword: 'help', knownProfile: false, replied: true });
    const outbox = await stack.api.get(`/local/outbox?channel=sms&to=${encodeURIComponent(phone)}`);
    assert.match(outbox.body.messages[0]?.text ?? '', /Reply STOP to unsubscribe/);
    const other = await stack.api.post('/local/sms/inbound', { from: phone, body: 'thanks!' });
    assert.deepEqual(other.body, { keyword: null, knownProfile: false, replied: false });
  });

  it('refuses an inbound SMS without a valid number or text', async () => {
    const bad = await stack.api.post('/local/sms/inbound', { from: '0612', body: 3 });
    assert.equal(bad.status, 400);
    assert.deepEqual(issueFields(bad).sort(), ['body', 'from']);
  });
});
