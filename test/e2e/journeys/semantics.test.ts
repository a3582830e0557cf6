import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Context } from 'aws-lambda';
import { graphs, journeyId, journeyTestKit } from './support.js';

/** Entry, exit and versioning rules on the local stack. */

async function waitingJourney(extra: Record<string, unknown> = {}) {
  const kit = await journeyTestKit();
  const id = journeyId('sem');
  await kit.template(`${id}-t`, { subject: 'after a day', text: 'hello' });
  const definition = {
    id,
    trigger: { event: `Start ${id}` },
    ...graphs.waitThenEmail(`${id}-t`, { for: 'P1D' }),
    ...extra,
  };
  await kit.publish(definition);
  return { kit, id, definition };
}

describe('journey semantics on the local stack', () => {
  it('goal reached mid-wait stops the execution and counts a conversion', async () => {
    const { kit, id } = await waitingJourney({ goal: { event: 'Order Completed', within: 'P7D' } });
    const user = `g-${id}`;
    await kit.identify(user, { email: `${user}@example.com` });
    await kit.track(user, `Start ${id}`);
    await kit.advance('PT6H');
    await kit.track(user, 'Order Completed', { total: 10 });
    await kit.advance('P1D');
    assert.equal((await kit.outbox(id)).length, 0);
    const stats = await kit.stats(id);
    assert.equal(stats.goal.conversions, 1);
    assert.equal(stats.nodes.pause.entered, 1);
    assert.equal(stats.nodes.pause.waiting, 0, 'the customer left the wait');
    const [execution] = await kit.executions(id);
    assert.equal(execution?.status, 'ABORTED');
  });

  it('a goal event after the window does not count', async () => {
    const { kit, id } = await waitingJourney({
      goal: { event: 'Order Completed', within: 'PT1H' },
    });
    const user = `gw-${id}`;
    await kit.identify(user, { email: `${user}@example.com` });
    await kit.track(user, `Start ${id}`);
    await kit.advance('PT2H');
    await kit.track(user, 'Order Completed');
    await kit.advance('P1D');
    assert.equal((await kit.stats(id)).goal.conversions, 0);
    assert.equal((await kit.outbox(id)).length, 1);
  });

  it('an exitOn event stops the execution and is recorded', async () => {
    const exitEvent = `Unsubscribed ${randomUUID()}`;
    const { kit, id } = await waitingJourney({ exitOn: [{ event: exitEvent }] });
    const user = `x-${id}`;
    await kit.identify(user, { email: `${user}@example.com` });
    await kit.track(user, `Start ${id}`);
    await kit.track(user, exitEvent);
    await kit.advance('P1D');
    assert.equal((await kit.outbox(id)).length, 0);
    const stats = await kit.stats(id);
    assert.equal(stats.exited, 1);
    assert.equal(stats.goal.conversions, 0);
  });

  it('reentry never: a second trigger starts nothing, even after the first execution ended', async () => {
    const { kit, id } = await waitingJourney({ reentry: 'never' });
    const user = `n-${id}`;
    await kit.track(user, `Start ${id}`);
    await kit.advance('P2D');
    await kit.track(user, `Start ${id}`);
    assert.equal((await kit.executions(id)).length, 1);
  });

  it('reentry after PT1H: refused within the hour, allowed after', async () => {
    const { kit, id } = await waitingJourney({ reentry: { after: 'PT1H' } });
    const user = `a-${id}`;
    await kit.track(user, `Start ${id}`);
    await kit.advance('PT30M');
    await kit.track(user, `Start ${id}`);
    assert.equal((await kit.executions(id)).length, 1);
    await kit.advance('PT31M');
    await kit.track(user, `Start ${id}`);
    assert.equal((await kit.executions(id)).length, 2);
  });

  it('reentry always: every trigger starts an execution', async () => {
    const { kit, id } = await waitingJourney({ reentry: 'always' });
    const user = `al-${id}`;
    await kit.track(user, `Start ${id}`);
    await kit.track(user, `Start ${id}`);
    assert.equal((await kit.executions(id)).length, 2);
  });

  it('a duplicated trigger event (same messageId) starts one execution', async () => {
    const { kit, id } = await waitingJourney({ reentry: 'always' });
    const user = `d-${id}`;
    const messageId = randomUUID();
    await kit.track(user, `Start ${id}`, {}, { messageId });
    await kit.track(user, `Start ${id}`, {}, { messageId });
    assert.equal((await kit.executions(id)).length, 1);
    assert.equal((await kit.stats(id)).started, 1);
  });

  it('a paused journey takes no new entries; resumed, it does again', async () => {
    const { kit, id } = await waitingJourney({ reentry: 'always' });
    const user = `p-${id}`;
    assert.equal((await kit.api.post(`/journeys/${id}/pause`)).status, 200);
    await kit.track(user, `Start ${id}`);
    assert.equal((await kit.executions(id)).length, 0);
    assert.equal((await kit.api.post(`/journeys/${id}/resume`)).status, 200);
    await kit.track(user, `Start ${id}`);
    assert.equal((await kit.executions(id)).length, 1);
  });

  it('enrollment enters one customer by userId, and refuses a second entry under reentry never', async () => {
    const { kit, id } = await waitingJourney({ reentry: 'never' });
    const user = `e-${id}`;
    await kit.identify(user, { email: `${user}@example.com` });
    const first = await kit.api.post(`/journeys/${id}/enrollments`, {
      userId: user,
      context: { source: 'crm' },
    });
    assert.equal(first.status < 300, true, JSON.stringify(first.body));
    const second = await kit.api.post(`/journeys/${id}/enrollments`, { userId: user });
    assert.equal(second.status, 409);
    const unknown = await kit.api.post(`/journeys/${id}/enrollments`, { userId: `nobody-${id}` });
    assert.equal(unknown.status, 404);
    await kit.advance('P1D');
    assert.equal((await kit.outbox(id)).length, 1);
  });

  it('a retried send step sends one email', async () => {
    const { kit, id } = await waitingJourney();
    const user = `r-${id}`;
    await kit.identify(user, { email: `${user}@example.com` });
    await kit.track(user, `Start ${id}`);
    const [execution] = await kit.executions(id);
    const { handler } = await import('../../../functions/step/handler.js');
    const request = {
      journeyId: id,
      version: 1,
      nodeId: 'send',
      nodeType: 'email',
      action: 'run',
      execution: execution!.executionArn,
      input: {
        profileId: await kit.profileId(user),
        journeyId: id,
        version: 1,
        entry: { event: `Start ${id}`, properties: {} },
        last: { nodeId: 'pause', outcome: 'waited', next: 'send' },
      },
    };
    const first = (await handler(request, {} as Context)) as { messageId: string };
    const second = (await handler(request, {} as Context)) as { messageId: string };
    assert.equal(first.messageId, second.messageId);
    await kit.advance('P1D'); // the execution's own step: a third attempt at the same (execution, node)
    assert.equal((await kit.outbox(id)).length, 1);
    assert.equal((await kit.describe(execution!.executionArn!)).status, 'SUCCEEDED');
  });

  it('publishing v2 while v1 executions wait: each finishes on its own version', async () => {
    const { kit, id, definition } = await waitingJourney({ reentry: 'always' });
    await kit.identify(`v1-${id}`, { email: `v1-${id}@example.com` });
    await kit.identify(`v2-${id}`, { email: `v2-${id}@example.com` });
    await kit.track(`v1-${id}`, `Start ${id}`);
    await kit.template(`${id}-t2`, { subject: 'version two', text: 'v2' });
    const version = await kit.publish({
      ...definition,
      nodes: { ...definition.nodes, send: { type: 'email', template: `${id}-t2`, next: 'done' } },
    });
    assert.equal(version, 2, JSON.stringify((await kit.api.get(`/journeys/${id}`)).body).slice(0, 1500));
    await kit.track(`v2-${id}`, `Start ${id}`);
    await kit.advance('P1D');
    const outbox = await kit.outbox(id);
    const byUser = (user: string) => outbox.find((m) => m.to === `${user}-${id}@example.com`);
    assert.equal(byUser('v1')?.subject, 'after a day');
    assert.equal(byUser('v1')?.journeyVersion, 1);
    assert.equal(byUser('v2')?.subject, 'version two');
    assert.equal(byUser('v2')?.journeyVersion, 2);
    const executions = await kit.executions(id);
    assert.deepEqual(
      executions.map((e) => e.status),
      ['SUCCEEDED', 'SUCCEEDED'],
    );
  });
});
