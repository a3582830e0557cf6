import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { systemClock } from '../../../shared/clock.js';
import { DynamoSegmentStore } from '../../../shared/segments/index.js';
import { type BackfillJob, putSegment, runBackfillPage } from '../../../shared/segments/service.js';
import { profileIngest, useTestDynamo } from '../profiles/dynamo.js';

const dynamo = useTestDynamo();

describe('segment backfill (DynamoDB Local)', () => {
  test('the first page waits until every process has reloaded its segment list; later pages do not', async () => {
    const jobs: BackfillJob[] = [];
    const sleeps: number[] = [];
    let now = 1_000;
    const deps = {
      store: new DynamoSegmentStore({
        client: dynamo.documentClient(),
        profilesTable: dynamo.profilesTableName,
        journeysTable: dynamo.journeysTableName,
      }),
      clock: systemClock,
      pager: { send: async (job: BackfillJob) => void jobs.push(job) },
      pageSize: 1,
      backfillDelayMs: 6_000,
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    };
    // Two profiles at least: pages of one profile make a second page.
    const { ingest } = profileIngest(dynamo);
    for (let i = 0; i < 2; i++) await ingest({ type: 'identify', userId: `u-${randomUUID()}`, traits: {} });
    const id = `delayed-${randomUUID().slice(0, 8)}`;
    await putSegment(deps, id, { id, name: id, where: { traits: { plan: [`plan-${id}`] } } });
    assert.deepEqual(jobs, [{ segmentId: id, revision: 1, evaluated: 0, notBefore: 7_000 }]);
    now += 2_000;
    await runBackfillPage(deps, jobs[0]!);
    assert.deepEqual(sleeps, [4_000], 'the rest of the delay');
    const next = jobs[1]!;
    assert.equal(next.notBefore, undefined);
    await runBackfillPage(deps, next);
    assert.deepEqual(sleeps, [4_000], 'a later page starts at once');
  });
});
