import { it } from 'node:test';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { splitBranchIndex, splitHash } from '../../../shared/journeys/nodes/split.js';
import { journeyId, journeyTestKit, uniqueId, waitForIdle } from '../journeys/support.js';

it('debug', { timeout: 600_000 }, async () => {
  const kit = await journeyTestKit();
  const id = journeyId('dbg');
  const branches = [
    { weight: 70, next: 'treated', name: 'journey' },
    { weight: 30, next: 'holdout', name: 'control', holdout: true },
  ];
  await kit.publish({
    id,
    trigger: { event: 'Signed Up' },
    goal: { event: 'Order Completed', within: 'P7D' },
    reentry: 'always',
    start: 'ab',
    nodes: {
      ab: { type: 'split', branches },
      treated: { type: 'wait', for: 'P1D', next: 'done' },
      holdout: { type: 'wait', for: 'P1D', next: 'done' },
      done: { type: 'exit' },
    },
  });
  const users = Array.from({ length: 20 }, (_, i) => `${uniqueId('d')}-${i}`);
  await kit.api.post('/v1/batch', {
    batch: users.map((userId) => ({ type: 'track', userId, event: 'Signed Up' })),
  });
  await waitForIdle(kit.httpUrl);
  const arms: Record<string, string> = {};
  for (const u of users)
    arms[u] =
      branches[
        splitBranchIndex({ type: 'split', branches } as never, splitHash(await kit.profileId(u), id, 'ab'))
      ]!.next;
  const execs = await kit.executions(id);
  for (const e of execs.slice(0, 6)) {
    const out = await kit.sfn.send(
      new GetExecutionHistoryCommand({ executionArn: e.executionArn!, reverseOrder: true, maxResults: 20 }),
    );
    console.log(
      'HIST',
      e.name,
      out.events?.map((ev) => `${ev.type}:${ev.stateEnteredEventDetails?.name ?? ''}`).join(' '),
    );
  }
  const treated = users.filter((u) => arms[u] === 'treated');
  await kit.api.post('/v1/batch', {
    batch: treated.map((userId) => ({ type: 'track', userId, event: 'Order Completed' })),
  });
  await waitForIdle(kit.httpUrl);
  const report = (await kit.api.get(`/journeys/${id}/report`)).body;
  console.log(
    'TREATED',
    treated.length,
    JSON.stringify(
      report.experiments[0].arms.map((a: { next: string; entered: number; conversions: number }) => [
        a.next,
        a.entered,
        a.conversions,
      ]),
    ),
    JSON.stringify(report.paths),
  );
});
