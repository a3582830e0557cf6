import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { journeyId, journeyTestKit } from './support.js';

/**
 * Step Functions keeps every execution's input and every state's input and output in its history for
 * 90 days, and erasure cannot delete it: nothing personal may go there, only ids. The entry's
 * properties (or enrollment context) and the awaited event's are kept in Cairn's tables instead, and
 * the nodes that use them still do.
 */
describe('execution history holds ids only (local stack)', () => {
  it('no trait or property value appears in any execution input, output or history event', async () => {
    const kit = await journeyTestKit();
    const id = journeyId('hist');
    const tag = id.slice(-6);
    const secrets = {
      email: `mail-${tag}@example.com`,
      firstName: `Firstname${tag}`,
      cartId: `cart-${tag}-secret`,
      coupon: `coupon-${tag}-secret`,
      note: `note-${tag}-secret`,
      contextCart: `ctxcart-${tag}-secret`,
      contextCoupon: `ctxcoupon-${tag}-secret`,
    };
    await kit.template(`${id}-t`, {
      subject: 'Your cart {{ event.cartId }}',
      text: 'Hi {{ profile.firstName }}, use {{ event.coupon }}',
    });
    await kit.publish({
      id,
      trigger: { event: `Start ${id}` },
      reentry: 'always',
      start: 'route',
      nodes: {
        route: {
          type: 'branch',
          cases: [{ when: { properties: { coupon: [{ exists: true }] } }, next: 'mail' }],
          default: 'done',
        },
        mail: { type: 'email', template: `${id}-t`, next: 'bought' },
        bought: {
          type: 'waitFor',
          event: `Bought ${id}`,
          match: ['cartId'],
          timeout: 'P1D',
          // biome-ignore lint/suspicious/noThenProperty: the waitFor node's field is named `then`
          then: 'thanks',
          else: 'done',
        },
        thanks: { type: 'update', set: { bought: true }, next: 'done' },
        done: { type: 'exit' },
      },
    });
    const userId = `u-${id}`;
    await kit.identify(userId, { email: secrets.email, firstName: secrets.firstName });
    const profileId = await kit.profileId(userId);

    // Entered by an event, resumed by the awaited one (same cartId, a property of its own).
    await kit.track(userId, `Start ${id}`, { cartId: secrets.cartId, coupon: secrets.coupon });
    await kit.advance('PT1M');
    await kit.track(userId, `Bought ${id}`, { cartId: secrets.cartId, note: secrets.note });
    // Entered through the API with a context, then timed out.
    const enrolled = await kit.api.post(`/journeys/${id}/enrollments`, {
      profileId,
      context: { cartId: secrets.contextCart, coupon: secrets.contextCoupon },
    });
    assert.equal(enrolled.status, 202, JSON.stringify(enrolled.body));
    await kit.advance('P2D');

    // The nodes still see the properties: branch on them, the template renders them, waitFor matched.
    const stats = await kit.stats(id);
    assert.equal(stats.started, 2);
    assert.equal(stats.finished, 2);
    assert.equal(stats.nodes.bought.resumed, 1);
    assert.equal(stats.nodes.bought.timedOut, 1);
    assert.equal(stats.nodes.thanks.completed, 1);
    const subjects = (await kit.outbox(id)).map((m) => m.subject).sort();
    assert.deepEqual(subjects, [`Your cart ${secrets.cartId}`, `Your cart ${secrets.contextCart}`].sort());

    const executions = await kit.executions(id);
    assert.equal(executions.length, 2);
    for (const execution of executions) {
      const described = await kit.describe(execution.executionArn!);
      const history = await kit.history(execution.executionArn!);
      assert.ok(history.length > 10, `a full history (${history.length} events)`);
      const text = JSON.stringify({ input: described.input, output: described.output, history });
      assert.ok(text.includes(profileId), 'the profile id is there');
      for (const [name, value] of Object.entries(secrets))
        assert.equal(text.includes(value), false, `${name} is in the history of ${execution.name}`);
    }
  });
});
