import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DeleteOptedOutNumberCommand,
  PinpointSMSVoiceV2Client,
  PutOptedOutNumberCommand,
} from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { awsClientConfig, uniqueId, waitForIdle } from '../../support/local.js';
import { testStack } from '../../support/stack.js';
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
    const bad = await stack.api.post('/local/sms/inbound', { from: '0612', body: 3, messageId: 7 });
    assert.equal(bad.status, 400);
    assert.deepEqual(issueFields(bad).sort(), ['body', 'from', 'messageId']);
  });

  it('STOP from a number the SMS service refuses: the opt-out is stored and the call answers 200 with the failed confirmation; sent again (same messageId) it changes nothing', async () => {
    const userId = uniqueId('refused');
    const phone = `+336${String(Date.now() + 11).slice(-8)}`;
    await stack.api.post('/v1/identify', { userId, traits: { phone } });
    await waitForIdle(stack.httpUrl);
    const profileId = (await stack.api.get(`/profiles?userId=${userId}`)).body.profileId as string;
    const sms = new PinpointSMSVoiceV2Client(awsClientConfig((await testStack()).edgeUrl));
    await sms.send(new PutOptedOutNumberCommand({ OptOutListName: 'Default', OptedOutNumber: phone }));
    try {
      const messageId = uniqueId('inbound');
      for (const attempt of [1, 2]) {
        const stop = await stack.api.post('/local/sms/inbound', { from: phone, body: 'STOP', messageId });
        assert.equal(stop.status, 200, `attempt ${attempt}: ${JSON.stringify(stop.body)}`);
        assert.deepEqual(stop.body, {
          keyword: 'opt-out',
          knownProfile: true,
          replied: false,
          replyFailed: 'DESTINATION_PHONE_NUMBER_OPTED_OUT',
        });
      }
      const suppressions = await stack.api.get(`/profiles/${profileId}/suppressions`);
      assert.deepEqual(
        suppressions.body.suppressions.map((s: { address: string; reason: string }) => [s.address, s.reason]),
        [[phone, 'opted_out']],
      );
      await waitForIdle(stack.httpUrl);
      const timeline = (await stack.api.get(`/profiles/${profileId}/timeline?limit=20`)).body;
      const events = (timeline.entries as { event?: string }[]).flatMap((entry) => entry.event ?? []);
      assert.deepEqual(
        events.sort(),
        ['SMS Received', 'Unsubscribed'],
        'the retry’s events are the same events',
      );
    } finally {
      await sms.send(new DeleteOptedOutNumberCommand({ OptOutListName: 'Default', OptedOutNumber: phone }));
    }
  });
});
