/**
 * The local stand-ins for the two AWS services a broadcast runs through, on the virtual clock:
 * EventBridge Scheduler (one-time schedules → the runner's `fire`) and the SQS slot queue (delayed
 * delivery → `startSlot`, redelivered after a visibility timeout when it throws, to a dead-letter list
 * after `maxReceives`). Advancing the clock fires them in time order and waits for the work they start.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Firing, FiringScheduler, Slot } from '../../shared/broadcasts/ports.js';
import type { Logger } from '../../shared/log.js';
import { AwsServiceError, type EdgeService } from './edge.js';

/** What these need of the local clock (stepfunctions/clock.ts VirtualClock). */
export interface ClockTimers {
  now(): number;
  schedule(at: number, fire: () => void): { cancel(): void };
  track<T>(work: Promise<T>): Promise<T>;
}

const firingKey = (f: Pick<Firing, 'broadcastId' | 'runKey' | 'zone'>) =>
  `${f.broadcastId}\n${f.runKey}\n${f.zone}`;

export function clockScheduler(
  clock: ClockTimers,
  fire: (firing: Firing) => Promise<void>,
  log?: Logger,
): FiringScheduler & { pending(): number } {
  const wakes = new Map<string, { cancel(): void }>();
  return {
    async schedule(firing) {
      const key = firingKey(firing);
      wakes.get(key)?.cancel();
      wakes.set(
        key,
        clock.schedule(Math.max(firing.at, clock.now()), () => {
          wakes.delete(key);
          clock
            .track(fire(firing))
            .catch((error: Error) => log?.error('broadcast firing failed', { errorName: error.name }));
        }),
      );
    },
    async cancel(firing) {
      const key = firingKey(firing);
      wakes.get(key)?.cancel();
      wakes.delete(key);
    },
    pending: () => wakes.size,
  };
}

export function clockQueue<M extends { notBefore: number } = Slot>(
  clock: ClockTimers,
  deliver: (message: M) => Promise<unknown>,
  options: { maxReceives?: number; visibilityMs?: number; log?: Logger } = {},
): { send(messages: M[]): Promise<void>; deadLetters: M[]; deliveries: number } {
  const maxReceives = options.maxReceives ?? 5;
  const visibilityMs = options.visibilityMs ?? 180_000;
  const queue = {
    deadLetters: [] as M[],
    deliveries: 0,
    async send(slots: M[]) {
      for (const slot of slots) receive(slot, 1, Math.max(slot.notBefore, clock.now()));
    },
  };
  function receive(slot: M, attempt: number, at: number): void {
    clock.schedule(at, () => {
      queue.deliveries++;
      clock.track(deliver(slot)).catch((error: Error) => {
        options.log?.warn('slot failed; redelivered after the visibility timeout', {
          attempt,
          errorName: error.name,
        });
        if (attempt >= maxReceives) queue.deadLetters.push(slot);
        else receive(slot, attempt + 1, clock.now() + visibilityMs);
      });
    });
  }
  return queue;
}

interface SqsMessage {
  messageId: string;
  body: string;
  notBefore: number;
}

/**
 * The edge's EventBridge Scheduler (REST: `POST|DELETE /schedules/{Name}`, one-time `at(...)`
 * schedules in UTC) and SQS (JSON protocol: `SendMessageBatch`, `SendMessage`) for what broadcasts
 * use, on the virtual clock: a schedule invokes its target Lambda with its Input when due; a message
 * is delivered (one per SQS event) to the function its queue feeds, after its DelaySeconds, again
 * after the visibility timeout when it fails, to the queue's dead letters after `maxReceives`.
 */
export function createLocalScheduling(options: {
  clock: ClockTimers;
  invoke: (nameOrArn: string, event: unknown) => Promise<unknown>;
  /** Queue name → the function it feeds (the event source mapping). */
  queues: Record<string, string>;
  log?: Logger;
}) {
  const { clock, invoke, log } = options;
  const schedules = new Map<string, { cancel(): void }>();
  const deadLetters: Record<string, SqsMessage[]> = {};
  const queues = new Map<string, ReturnType<typeof clockQueue<SqsMessage>>>();
  const queueFor = (url: unknown) => {
    const name = typeof url === 'string' ? url.split('/').at(-1)! : '';
    const target = options.queues[name];
    if (!target)
      throw new AwsServiceError('AWS.SimpleQueueService.NonExistentQueue', `no queue ${String(url)}`, 400);
    const existing = queues.get(name);
    if (existing) return existing;
    {
      const queue = clockQueue<SqsMessage>(
        clock,
        async (message) => {
          const { messageId, body } = message;
          const out = (await invoke(target, { Records: [{ messageId, body, eventSource: 'aws:sqs' }] })) as
            | { batchItemFailures?: unknown[] }
            | undefined;
          if (out?.batchItemFailures?.length) throw new Error('batch item failure');
        },
        log ? { log } : {},
      );
      deadLetters[name] = queue.deadLetters;
      queues.set(name, queue);
      return queue;
    }
  };
  const send = (url: unknown, entries: { Id?: string; MessageBody?: string; DelaySeconds?: number }[]) => {
    const queue = queueFor(url);
    const successful = entries.map((entry) => {
      const body = String(entry.MessageBody ?? '');
      const messageId = randomUUID();
      queue.send([{ messageId, body, notBefore: clock.now() + (entry.DelaySeconds ?? 0) * 1000 }]);
      return {
        Id: entry.Id,
        MessageId: messageId,
        MD5OfMessageBody: createHash('md5').update(body).digest('hex'),
      };
    });
    return successful;
  };
  const scheduleName = (url: URL | undefined) => decodeURIComponent(url?.pathname.split('/').at(-1) ?? '');
  return {
    sqs: {
      targetPrefix: 'AmazonSQS',
      async handle(action: string, body: unknown) {
        const input = (body ?? {}) as {
          QueueUrl?: string;
          Entries?: [];
          MessageBody?: string;
          DelaySeconds?: number;
        };
        if (action === 'SendMessageBatch')
          return { Successful: send(input.QueueUrl, input.Entries ?? []), Failed: [] };
        if (action === 'SendMessage') {
          const [sent] = send(input.QueueUrl, [{ Id: '0', ...input }]);
          return { MessageId: sent!.MessageId, MD5OfMessageBody: sent!.MD5OfMessageBody };
        }
        throw new AwsServiceError(
          'UnsupportedOperation',
          `the local SQS supports SendMessage(Batch), not ${action}`,
          400,
        );
      },
    } satisfies EdgeService,
    schedulerRoutes: [
      {
        method: 'POST',
        path: '/schedules/*',
        async handle(body: unknown, url?: URL) {
          const name = scheduleName(url);
          const input = body as { ScheduleExpression?: string; Target?: { Arn?: string; Input?: string } };
          const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(
            input.ScheduleExpression ?? '',
          )?.[1];
          if (!at || !input.Target?.Arn)
            throw new AwsServiceError(
              'ValidationException',
              'the local scheduler takes at(yyyy-mm-ddThh:mm:ss) schedules with a Target',
              400,
            );
          if (schedules.has(name))
            throw new AwsServiceError('ConflictException', `schedule ${name} exists`, 409);
          const target = input.Target.Arn;
          const payload = JSON.parse(input.Target.Input ?? '{}') as unknown;
          schedules.set(
            name,
            clock.schedule(Math.max(Date.parse(`${at}Z`), clock.now()), () => {
              schedules.delete(name);
              clock
                .track(invoke(target, payload))
                .catch((error: Error) =>
                  log?.error('scheduled invocation failed', { schedule: name, errorName: error.name }),
                );
            }),
          );
          return { ScheduleArn: `arn:aws:scheduler:us-east-1:000000000000:schedule/default/${name}` };
        },
      },
      {
        method: 'DELETE',
        path: '/schedules/*',
        async handle(_body: unknown, url?: URL) {
          const name = scheduleName(url);
          const found = schedules.get(name);
          if (!found) throw new AwsServiceError('ResourceNotFoundException', `no schedule ${name}`, 404);
          found.cancel();
          schedules.delete(name);
          return {};
        },
      },
    ],
    deadLetters,
    pendingSchedules: () => schedules.size,
  };
}
