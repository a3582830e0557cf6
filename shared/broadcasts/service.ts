import type { JourneyEntryRules } from '../catalog/active.js';
import type { Clock } from '../clock.js';
import { CairnError, ConflictError, type Issue, NotFoundError, ValidationError } from '../errors.js';
import type { IdGenerator } from '../ids.js';
import type { Logger } from '../log.js';
import type { SegmentMembership } from '../segments/port.js';
import type { Firing, FiringScheduler, Slot, SlotQueue } from './ports.js';
import { type BroadcastRequest, parseBroadcastRequest } from './request.js';
import { firstFiring, nextFiring, type PlanTiming } from './schedule.js';
import type { BroadcastRecord, BroadcastStore, RunRecord, SlotOutcome } from './store.js';

export const planZone = '#plan';
export const allZones = '*';
/**
 * How far ahead (seconds) one runner invocation queues slots (SQS delays reach 15 minutes); the rest
 * is a continuation scheduled a minute before these run out. A slot delivered before its second is
 * sent back to the queue with the remaining delay (startSlot), so the rate holds even when other
 * firings of the broadcast have reserved seconds further ahead than that.
 */
export const queueAheadSeconds = 840;
const membersPage = 1000;

/** What entering one member returns: entered (now or by an earlier delivery of the same slot) or why not. */
export type EntryOutcome = { entered: true } | { entered: false; reason: string };

export interface BroadcastDeps {
  store: BroadcastStore;
  membership: SegmentMembership;
  journeys: { getJourney(journeyId: string): Promise<JourneyEntryRules | undefined> };
  /** Each profile's `timezone` trait (undefined when it has none). */
  timezones(profileIds: string[]): Promise<Map<string, string | undefined>>;
  /**
   * Enters one profile with the entry `{ event: 'Broadcast', broadcastId, runAt }`, at most once per
   * (run, profile) whatever happens: the same slot delivered again is `entered` (counted once by
   * applySlot), another slot of the run with the profile is skipped `entered_this_run`.
   */
  enter(
    journey: JourneyEntryRules,
    profileId: string,
    entry: { broadcastId: string; runAt: string; slotId: string },
  ): Promise<EntryOutcome>;
  scheduler: FiringScheduler;
  queue: SlotQueue;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  /** Default and maximum `ratePerSecond`. */
  rate?: { default: number; max: number };
}

export type BroadcastStatus = 'scheduled' | 'running' | 'done' | 'cancelled' | 'failed';

export interface BroadcastView {
  broadcastId: string;
  journeyId: string;
  segment: string;
  status: BroadcastStatus;
  audience: number;
  entered: number;
  skipped: number;
  failed: number;
  nextRunAt?: string;
  ratePerSecond: number;
  at?: string;
  localTime?: { time: string; date: string };
  fallbackTimezone: string;
  recurrence?: BroadcastRecord['recurrence'];
  failure?: string;
  runs: {
    runAt: string;
    audience: number;
    entered: number;
    skipped: number;
    failed: number;
    reasons: Record<string, number>;
  }[];
}

export const defaultRate = { default: 200, max: 3000 };

/** Scheduled and recurring broadcasts of a journey to a segment (README "Broadcasts"). */
export function createBroadcasts(deps: BroadcastDeps) {
  const rate = deps.rate ?? defaultRate;
  const timing = (b: BroadcastRecord): PlanTiming => ({
    ...(b.at && { at: Date.parse(b.at) }),
    ...(b.localTime && { localTime: b.localTime }),
    ...(b.recurrence && { recurrence: b.recurrence }),
  });

  async function view(b: BroadcastRecord): Promise<BroadcastView> {
    const runs = (await deps.store.runs(b.broadcastId)).sort((x, y) => (x.runKey < y.runKey ? -1 : 1));
    const sum = (key: 'entered' | 'skipped' | 'failed') => runs.reduce((n, r) => n + r[key], 0);
    const busy = runs.some((r) => r.paging > 0 || r.slotsDone < r.slots);
    const status: BroadcastStatus = b.cancelled
      ? 'cancelled'
      : b.failure
        ? 'failed'
        : busy
          ? 'running'
          : b.pending.length > 0
            ? 'scheduled'
            : 'done';
    const next = b.pending.map((p) => p.at).sort()[0];
    return {
      broadcastId: b.broadcastId,
      journeyId: b.journeyId,
      segment: b.segment,
      status,
      audience: runs.at(-1)?.audience ?? b.audienceAtCreation,
      entered: sum('entered'),
      skipped: sum('skipped'),
      failed: sum('failed'),
      ...(next && !b.cancelled && { nextRunAt: next }),
      ratePerSecond: b.ratePerSecond,
      ...(b.at && { at: b.at }),
      ...(b.localTime && { localTime: b.localTime }),
      fallbackTimezone: b.fallbackTimezone,
      ...(b.recurrence && { recurrence: b.recurrence }),
      ...(b.failure && { failure: b.failure }),
      runs: runs.map((r: RunRecord) => ({
        runAt: r.runKey,
        audience: r.audience,
        entered: r.entered,
        skipped: r.skipped,
        failed: r.failed,
        reasons: r.reasons,
      })),
    };
  }

  async function schedule(b: BroadcastRecord, firings: Firing[], done?: Pick<Firing, 'runKey' | 'zone'>) {
    const add = firings.map((f) => ({ runKey: f.runKey, zone: f.zone, at: new Date(f.at).toISOString() }));
    for (const firing of firings) await deps.scheduler.schedule(firing);
    await deps.store.updatePending(b.broadcastId, {
      add,
      ...(done && { remove: { runKey: done.runKey, zone: done.zone } }),
    });
    b.pending = [
      ...b.pending.filter((p) => !(done && p.runKey === done.runKey && p.zone === done.zone)),
      ...add,
    ];
  }

  /** Zones of these members: their `timezone` trait when it is a real zone, else the fallback. */
  async function zonesOf(b: BroadcastRecord, profileIds: string[]): Promise<Map<string, string>> {
    const found = await deps.timezones(profileIds);
    return new Map(
      profileIds.map((id) => {
        const zone = found.get(id);
        return [id, zone && isZone(zone) ? zone : b.fallbackTimezone];
      }),
    );
  }

  return {
    async create(
      journeyId: string,
      body: unknown,
    ): Promise<{ broadcastId: string; status: 'scheduled'; audience: number }> {
      const now = deps.clock.now();
      // Every problem at once: the body's, then the journey's and the segment's.
      const issues: Issue[] = [];
      let parsed: BroadcastRequest | undefined;
      try {
        parsed = parseBroadcastRequest(body, now, rate);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        issues.push(...error.issues);
      }
      const segmentId = parsed?.segment ?? (body as { segment?: unknown } | null)?.segment;
      const journey = await deps.journeys.getJourney(journeyId);
      if (journey?.status !== 'active')
        issues.push({ path: ['journey'], message: `journey ${journeyId} is not published and active` });
      const segment =
        typeof segmentId === 'string' && segmentId !== ''
          ? await deps.membership.status(segmentId)
          : undefined;
      if (typeof segmentId === 'string' && segmentId !== '' && !segment)
        issues.push({ path: ['segment'], message: `no segment ${segmentId}` });
      if (issues.length > 0 || !parsed) throw new ValidationError(issues);
      const request = parsed;
      const record: BroadcastRecord = {
        broadcastId: deps.ids.next(),
        journeyId,
        segment: request.segment,
        ...(request.localTime
          ? { localTime: request.localTime }
          : { at: new Date(request.at ?? now).toISOString() }),
        fallbackTimezone: request.fallbackTimezone,
        ...(request.recurrence && { recurrence: request.recurrence }),
        ratePerSecond: request.ratePerSecond,
        createdAt: new Date(now).toISOString(),
        audienceAtCreation: segment!.count,
        cancelled: false,
        pending: [],
      };
      await deps.store.create(record);
      const first: Firing = record.localTime
        ? {
            broadcastId: record.broadcastId,
            runKey: firstFiring(timing(record), 'UTC').runKey,
            zone: planZone,
            at: now,
          }
        : { broadcastId: record.broadcastId, ...firstFiring(timing(record), allZones) };
      await schedule(record, [first]);
      deps.log.info('broadcast scheduled', {
        broadcastId: record.broadcastId,
        journeyId,
        segment: record.segment,
      });
      return { broadcastId: record.broadcastId, status: 'scheduled', audience: segment!.count };
    },

    async get(broadcastId: string): Promise<BroadcastView> {
      const b = await deps.store.get(broadcastId);
      if (!b) throw new NotFoundError(`broadcast ${broadcastId} not found`);
      return view(b);
    },

    async list(journeyId: string): Promise<{ broadcasts: BroadcastView[] }> {
      return { broadcasts: await Promise.all((await deps.store.listByJourney(journeyId)).map(view)) };
    },

    /** Stops the plan: pending firings are removed, slots not yet started enter nobody. */
    async cancel(broadcastId: string): Promise<BroadcastView> {
      const b = await deps.store.get(broadcastId);
      if (!b) throw new NotFoundError(`broadcast ${broadcastId} not found`);
      if (!b.cancelled) {
        const current = await view(b);
        if (current.status === 'done') throw new ConflictError(`broadcast ${broadcastId} is done`);
        for (const p of b.pending)
          await deps.scheduler.cancel({ broadcastId, runKey: p.runKey, zone: p.zone });
        await deps.store.update(broadcastId, { cancelled: true, pending: [] });
        b.cancelled = true;
        b.pending = [];
      }
      return view(b);
    },

    /** A scheduled firing: find the zones (`#plan`), or page this zone's members into slots. */
    async fire(firing: Firing): Promise<void> {
      const b = await deps.store.get(firing.broadcastId);
      if (!b || b.cancelled || b.failure) return;
      const now = deps.clock.now();
      if (firing.zone === planZone) {
        const zones = new Set<string>();
        let cursor: string | undefined;
        do {
          const page = await deps.membership.listMembers(b.segment, {
            limit: membersPage,
            ...(cursor && { cursor }),
          });
          for (const zone of (
            await zonesOf(
              b,
              page.members.map((m) => m.profileId),
            )
          ).values())
            zones.add(zone);
          cursor = page.next ?? undefined;
        } while (cursor);
        // Zones where the wall time has already passed enter at once (late), not a day later.
        const firings = [...zones].sort().map((zone) => {
          const f = firstFiring(timing(b), zone);
          return { broadcastId: b.broadcastId, ...f, at: Math.max(f.at, now) };
        });
        await schedule(b, firings, firing);
        return;
      }
      if (!firing.cursor) {
        if (!(await deps.membership.status(b.segment))) {
          await deps.store.update(b.broadcastId, {
            failure: `segment ${b.segment} no longer exists`,
            pending: [],
          });
          return;
        }
        await deps.store.addToRun(b.broadcastId, firing.runKey, { paging: 1 });
      }
      let index = firing.slotBase ?? 0;
      let cursor = firing.cursor;
      let pending: string[] = [];
      let lastSecond = Math.floor(now / 1000);
      const flush = async (final: boolean) => {
        const groups: string[][] = [];
        while (pending.length >= b.ratePerSecond || (final && pending.length > 0)) {
          groups.push(pending.slice(0, b.ratePerSecond));
          pending = pending.slice(b.ratePerSecond);
        }
        if (groups.length === 0) return;
        // Seconds from the broadcast's one timeline: zones firing at the same instant share the rate.
        const first = await deps.store.reserveSeconds(b.broadcastId, groups.length, Math.floor(now / 1000));
        const slots: Slot[] = groups.map((profileIds, i) => ({
          broadcastId: b.broadcastId,
          runKey: firing.runKey,
          slotId: `${firing.zone}:${index + i}`,
          profileIds,
          notBefore: (first + i) * 1000,
        }));
        index += slots.length;
        lastSecond = first + slots.length - 1;
        await deps.store.addToRun(b.broadcastId, firing.runKey, {
          slots: slots.length,
          audience: slots.reduce((n, s) => n + s.profileIds.length, 0),
        });
        await deps.queue.send(slots);
      };
      // A page spans at most a minute of slots, so one invocation never queues far past its horizon.
      const limit = Math.min(membersPage, b.ratePerSecond * 60);
      do {
        const page = await deps.membership.listMembers(b.segment, { limit, ...(cursor && { cursor }) });
        const ids = page.members.map((m) => m.profileId);
        if (firing.zone === allZones) pending.push(...ids);
        else for (const [id, zone] of await zonesOf(b, ids)) if (zone === firing.zone) pending.push(id);
        cursor = page.next ?? undefined;
        await flush(false);
        if (cursor && lastSecond * 1000 - now >= queueAheadSeconds * 1000) {
          // Far enough ahead: continue a minute before these slots run out (no invocation runs long).
          await flush(true);
          await deps.scheduler.schedule({
            broadcastId: firing.broadcastId,
            runKey: firing.runKey,
            zone: firing.zone,
            cursor,
            slotBase: index,
            at: (lastSecond - 60) * 1000,
          });
          return;
        }
      } while (cursor);
      await flush(true);
      await deps.store.addToRun(b.broadcastId, firing.runKey, { paging: -1 });
      const next = nextFiring(timing(b), { runKey: firing.runKey, zone: firing.zone, at: firing.at });
      await schedule(b, next ? [{ broadcastId: b.broadcastId, ...next }] : [], firing);
    },

    /** Enters a slot's members (one per member, membership checked now) and counts the outcome once. */
    async startSlot(slot: Slot): Promise<SlotOutcome | 'requeued'> {
      if (slot.notBefore - deps.clock.now() >= 1000) {
        // Reserved further ahead than an SQS delay reaches: wait in the queue for the rest of it.
        await deps.queue.send([slot]);
        return 'requeued';
      }
      const outcome: SlotOutcome = { entered: 0, skipped: 0, failed: 0, reasons: {} };
      const skip = (reason: string, n = 1) => {
        outcome.skipped += n;
        outcome.reasons[reason] = (outcome.reasons[reason] ?? 0) + n;
      };
      const b = await deps.store.get(slot.broadcastId);
      const journey = b && !b.cancelled ? await deps.journeys.getJourney(b.journeyId) : undefined;
      if (!b || b.cancelled) skip('cancelled', slot.profileIds.length);
      else if (journey?.status !== 'active') skip('journey_not_active', slot.profileIds.length);
      else {
        // Ten members at a time: a slot of ratePerSecond members takes well under a second.
        const enterOne = async (profileId: string) => {
          if (!(await deps.membership.isMember(b.segment, profileId))) return skip('left_segment');
          try {
            const out = await deps.enter(journey, profileId, {
              broadcastId: b.broadcastId,
              runAt: slot.runKey,
              slotId: slot.slotId,
            });
            if (out.entered) outcome.entered++;
            else skip(out.reason);
          } catch (error) {
            // Throttling and outages: the whole slot is delivered again (entries are idempotent).
            if (!(error instanceof CairnError) || error.status >= 500) throw error;
            outcome.failed++;
            deps.log.warn('broadcast entry failed', {
              broadcastId: b.broadcastId,
              profileId,
              code: error.code,
            });
          }
        };
        for (let i = 0; i < slot.profileIds.length; i += 10)
          await Promise.all(slot.profileIds.slice(i, i + 10).map(enterOne));
      }
      const counted = await deps.store.applySlot(slot.broadcastId, slot.runKey, slot.slotId, outcome);
      if (!counted)
        deps.log.info('slot delivered again: outcome already counted', {
          broadcastId: slot.broadcastId,
          slotId: slot.slotId,
        });
      return outcome;
    },
  };
}

export type Broadcasts = ReturnType<typeof createBroadcasts>;

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
