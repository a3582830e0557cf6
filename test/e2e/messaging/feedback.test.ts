import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { journeyId, journeyTestKit, uniqueId } from '../journeys/support.js';

/**
 * Email feedback into suppression through a journey on the local stack: the email node sends to an
 * SES mailbox simulator address, the local SES publishes the bounce or complaint to the default
 * bus, the feedback handler suppresses the address, and the profile shows it with reason and time.
 */

/** One email journey for every test here; each test sends it to an address of its own. */
let journey: Promise<string> | undefined;
function feedbackJourney(kit: Awaited<ReturnType<typeof journeyTestKit>>): Promise<string> {
  journey ??= (async () => {
    const id = journeyId('feedback');
    await kit.template(`${id}-t`, { subject: 'hello', text: 'hello' });
    const send = { type: 'email', template: `${id}-t`, next: 'done' };
    await kit.publish({
      id,
      trigger: { event: `Feedback ${id}` },
      start: 'send',
      nodes: { send, done: { type: 'exit' } },
    });
    return id;
  })();
  return journey;
}

async function sendOneEmail(kind: 'bounce' | 'complaint') {
  const kit = await journeyTestKit();
  const id = await feedbackJourney(kit);
  const label = uniqueId(kind);
  const user = `u-${label}`;
  // The simulator takes a label after `+`, so each test suppresses an address of its own.
  const email = `${kind}+${label}@simulator.amazonses.com`;
  await kit.identify(user, { email });
  await kit.track(user, `Feedback ${id}`);
  await kit.advance('PT1S');
  const profileId = await kit.profileId(user);
  const suppressions = await kit.api.get(`/profiles/${profileId}/suppressions`);
  assert.equal(suppressions.status, 200);
  const messages = await kit.api.get(`/messages?profileId=${profileId}&journeyId=${id}`);
  return {
    kit,
    id,
    email,
    profileId,
    suppressions: suppressions.body.suppressions,
    message: messages.body.messages[0],
  };
}

describe('email feedback suppresses the address', () => {
  it('a hard bounce: suppressed on the profile with reason and time, bounced in the history', async () => {
    const { kit, id, email, suppressions, message } = await sendOneEmail('bounce');
    assert.equal(suppressions.length, 1);
    assert.deepEqual(
      { channel: suppressions[0].channel, address: suppressions[0].address, reason: suppressions[0].reason },
      { channel: 'email', address: email, reason: 'hard_bounce' },
    );
    assert.ok(Date.parse(suppressions[0].at) > 0, 'with the time it was suppressed');
    assert.deepEqual(
      message.history.map((h: { status: string }) => h.status),
      ['sending', 'sent', 'bounced'],
    );
    assert.ok((await kit.stats(id)).nodes.send.bounced >= 1);
  });

  it('a complaint: suppressed with reason complaint, complained in the history', async () => {
    const { kit, id, suppressions, message } = await sendOneEmail('complaint');
    assert.deepEqual(
      suppressions.map((s: { reason: string }) => s.reason),
      ['complaint'],
    );
    assert.equal(message.status, 'complained');
    assert.ok((await kit.stats(id)).nodes.send.complained >= 1);
  });

  it('a marketer lifts a suppression (DELETE), and the profile no longer lists it', async () => {
    const { kit, email, profileId, suppressions } = await sendOneEmail('bounce');
    assert.equal(suppressions.length, 1);
    const lifted = await kit.api.delete(`/messaging/suppressions/email/${encodeURIComponent(email)}`);
    assert.equal(lifted.status, 200);
    assert.deepEqual((await kit.api.get(`/profiles/${profileId}/suppressions`)).body.suppressions, []);
  });
});
