import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handleInboundSms, type InboundSmsDeps } from '../../../shared/channels/sms/inbound.js';
import { ChannelSendError } from '../../../shared/messaging/channel.js';
import { MemoryMessagingStore } from '../../../shared/messaging/memory.js';

function setup(owner?: { userId?: string }) {
  const store = new MemoryMessagingStore();
  const events: { event: string; properties: Record<string, unknown>; messageId: string }[] = [];
  const replies: { to: string; text: string }[] = [];
  const deps: InboundSmsDeps = {
    suppressions: store,
    findByPhone: async () => owner,
    publish: async (event) => {
      events.push(event);
    },
    reply: async (to, text) => {
      replies.push({ to, text });
    },
    now: () => Date.parse('2026-12-01T10:00:00Z'),
  };
  return { store, events, replies, deps };
}

describe('inbound SMS', () => {
  it('STOP suppresses the number, emits Unsubscribed for its profile and confirms', async () => {
    const { store, events, replies, deps } = setup({ userId: 'u-1' });
    const result = await handleInboundSms({ from: '+33612345678', body: 'Stop', messageId: 'in-1' }, deps);
    assert.deepEqual(result, { keyword: 'opt-out', knownProfile: true, replied: true });
    assert.equal(store.suppressed.size, 1);
    assert.equal([...store.suppressed.values()][0]?.reason, 'opted_out');
    assert.deepEqual(
      events.map((e) => [e.event, e.properties]),
      [
        ['Unsubscribed', { channel: 'sms' }],
        ['SMS Received', { keyword: 'opt-out', text: 'Stop' }],
      ],
    );
    assert.match(replies[0]?.text ?? '', /unsubscribed/);
  });

  it('START lifts the suppression; HELP only answers', async () => {
    const { store, events, replies, deps } = setup({ userId: 'u-1' });
    await handleInboundSms({ from: '+33612345678', body: 'STOP' }, deps);
    await handleInboundSms({ from: '+33612345678', body: 'start' }, deps);
    assert.equal(store.suppressed.size, 0);
    assert.ok(events.some((e) => e.event === 'Subscribed'));
    const help = await handleInboundSms({ from: '+33612345678', body: 'HELP' }, deps);
    assert.equal(help.keyword, 'help');
    assert.match(replies.at(-1)?.text ?? '', /Reply STOP/);
    assert.equal(store.suppressed.size, 0);
  });

  it('a reply that is no keyword changes nothing but still reaches journeys as SMS Received', async () => {
    const { store, events, replies, deps } = setup({ userId: 'u-1' });
    const result = await handleInboundSms({ from: '+33612345678', body: 'Yes please, Friday works' }, deps);
    assert.equal(result.keyword, 'opt-in', 'YES is an opt-in keyword');
    const plain = await handleInboundSms({ from: '+33612345678', body: 'Friday works' }, deps);
    assert.deepEqual(plain, { keyword: null, knownProfile: true, replied: false });
    assert.equal(store.suppressed.size, 0);
    assert.equal(events.at(-1)?.event, 'SMS Received');
    assert.equal(replies.length, 1);
  });

  it('an unknown number is still opted out, with no event; a bad number is refused', async () => {
    const { store, events, deps } = setup(undefined);
    await handleInboundSms({ from: '+14155550100', body: 'STOP' }, deps);
    assert.equal(store.suppressed.size, 1);
    assert.equal(events.length, 0);
    await assert.rejects(handleInboundSms({ from: '0612', body: 'STOP' }, deps), /E\.164/);
  });
  it('a confirmation that fails for now: the opt-out is stored, the call fails with send_failed (502) for the sender to retry, and the retry changes nothing more but confirms', async () => {
    const { store, events, replies, deps } = setup({ userId: 'u-1' });
    let outage = true;
    const working = deps.reply!;
    deps.reply = async (to, text) => {
      if (outage) throw new ChannelSendError('ThrottlingException', { retryable: true });
      await working(to, text);
    };
    const stop = { from: '+33612345678', body: 'STOP', messageId: 'in-7' };
    await assert.rejects(handleInboundSms(stop, deps), (error: unknown) => {
      assert.ok(error instanceof ChannelSendError);
      assert.deepEqual([error.status, error.code], [502, 'send_failed']);
      return true;
    });
    assert.equal([...store.suppressed.values()][0]?.reason, 'opted_out', 'stored before the reply');
    assert.equal(replies.length, 0);

    outage = false;
    const retried = await handleInboundSms(stop, deps);
    assert.deepEqual(retried, { keyword: 'opt-out', knownProfile: true, replied: true });
    assert.equal(store.suppressed.size, 1);
    assert.equal(replies.length, 1);
    // The same events under the same ids: ingest keeps one of each.
    assert.deepEqual(
      events.map((e) => e.messageId),
      ['cairn-sms-opt-out-in-7', 'cairn-sms-in-in-7', 'cairn-sms-opt-out-in-7', 'cairn-sms-in-in-7'],
    );
  });

  it('a confirmation that can never go (the number refuses SMS) is reported, not retried: the opt-out stands', async () => {
    const { store, deps } = setup({ userId: 'u-1' });
    deps.reply = async () => {
      throw new ChannelSendError('DESTINATION_PHONE_NUMBER_OPTED_OUT', {
        retryable: false,
        suppress: 'opted_out',
      });
    };
    const result = await handleInboundSms({ from: '+33612345678', body: 'STOP' }, deps);
    assert.deepEqual(result, {
      keyword: 'opt-out',
      knownProfile: true,
      replied: false,
      replyFailed: 'DESTINATION_PHONE_NUMBER_OPTED_OUT',
    });
    assert.equal(store.suppressed.size, 1);
  });
});
