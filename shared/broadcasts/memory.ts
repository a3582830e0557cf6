import { type BroadcastRecord, type BroadcastStore, emptyRun, type RunRecord } from './store.js';

/** An in-memory BroadcastStore with the DynamoDB adapter's semantics, for tests. */
export class MemoryBroadcastStore implements BroadcastStore {
  private readonly broadcasts = new Map<string, BroadcastRecord>();
  private readonly runRecords = new Map<string, Map<string, RunRecord>>();
  private readonly slots = new Set<string>();
  private readonly timelines = new Map<string, number>();

  async create(record: BroadcastRecord): Promise<void> {
    this.broadcasts.set(record.broadcastId, structuredClone(record));
  }

  async get(broadcastId: string): Promise<BroadcastRecord | undefined> {
    const found = this.broadcasts.get(broadcastId);
    return found && structuredClone(found);
  }

  async listByJourney(journeyId: string): Promise<BroadcastRecord[]> {
    return [...this.broadcasts.values()]
      .filter((b) => b.journeyId === journeyId)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
      .map((b) => structuredClone(b));
  }

  async update(broadcastId: string, patch: Partial<BroadcastRecord>): Promise<void> {
    const found = this.broadcasts.get(broadcastId);
    if (found) Object.assign(found, structuredClone(patch));
  }

  async updatePending(broadcastId: string, change: Parameters<BroadcastStore['updatePending']>[1]) {
    const found = this.broadcasts.get(broadcastId);
    if (!found) return;
    const { remove } = change;
    found.pending = [
      ...found.pending.filter((p) => !(remove && p.runKey === remove.runKey && p.zone === remove.zone)),
      ...structuredClone(change.add ?? []),
    ];
  }

  async runs(broadcastId: string): Promise<RunRecord[]> {
    return [...(this.runRecords.get(broadcastId)?.values() ?? [])].map((r) => structuredClone(r));
  }

  private run(broadcastId: string, runKey: string): RunRecord {
    const runs = this.runRecords.get(broadcastId) ?? new Map<string, RunRecord>();
    this.runRecords.set(broadcastId, runs);
    const run = runs.get(runKey) ?? emptyRun(runKey);
    runs.set(runKey, run);
    return run;
  }

  async addToRun(
    broadcastId: string,
    runKey: string,
    delta: { audience?: number; slots?: number; paging?: number },
  ) {
    const run = this.run(broadcastId, runKey);
    run.audience += delta.audience ?? 0;
    run.slots += delta.slots ?? 0;
    run.paging += delta.paging ?? 0;
  }

  async reserveSeconds(broadcastId: string, count: number, fromSecond: number): Promise<number> {
    const first = Math.max(this.timelines.get(broadcastId) ?? 0, fromSecond);
    this.timelines.set(broadcastId, first + count);
    return first;
  }

  async applySlot(
    broadcastId: string,
    runKey: string,
    slotId: string,
    outcome: Parameters<BroadcastStore['applySlot']>[3],
  ) {
    const key = `${broadcastId}\n${runKey}\n${slotId}`;
    if (this.slots.has(key)) return false;
    this.slots.add(key);
    const run = this.run(broadcastId, runKey);
    run.entered += outcome.entered;
    run.skipped += outcome.skipped;
    run.failed += outcome.failed;
    run.slotsDone += 1;
    for (const [reason, n] of Object.entries(outcome.reasons))
      run.reasons[reason] = (run.reasons[reason] ?? 0) + n;
    return true;
  }
}
