import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Firing, FiringScheduler, Slot, SlotQueue } from './ports.js';

/** Schedule names: at most 64 of [0-9A-Za-z-_.]; one per (broadcast, run, zone, continuation). */
export function scheduleName(
  firing: Pick<Firing, 'broadcastId' | 'runKey' | 'zone'> & { slotBase?: number },
): string {
  const hash = createHash('sha256')
    .update(`${firing.broadcastId}\n${firing.runKey}\n${firing.zone}\n${firing.slotBase ?? 0}`)
    .digest('hex')
    .slice(0, 40);
  return `cairn-bc-${hash}`;
}

/**
 * EventBridge Scheduler as the FiringScheduler: one one-time schedule (`at(...)` in UTC) per firing,
 * invoking the broadcast Lambda with the firing as input and deleting itself after it ran.
 */
export function eventBridgeScheduler(
  client: SchedulerClient,
  target: { groupName: string; functionArn: string; roleArn: string },
  now: () => number = Date.now,
): FiringScheduler {
  return {
    async schedule(firing) {
      const at = new Date(Math.max(firing.at, now() + 1000)).toISOString().slice(0, 19);
      try {
        await client.send(
          new CreateScheduleCommand({
            Name: scheduleName(firing),
            GroupName: target.groupName,
            ScheduleExpression: `at(${at})`,
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            Target: {
              Arn: target.functionArn,
              RoleArn: target.roleArn,
              Input: JSON.stringify({ firing }),
              RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
            },
          }),
        );
      } catch (error) {
        // The same firing scheduled again (a retried invocation): the schedule is already there.
        if ((error as { name?: string }).name !== 'ConflictException') throw error;
      }
    },
    async cancel(firing) {
      try {
        await client.send(
          new DeleteScheduleCommand({ Name: scheduleName(firing), GroupName: target.groupName }),
        );
      } catch (error) {
        if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
      }
    },
  };
}

/** SQS as the SlotQueue: each slot one message, delayed until it is due (at most 15 minutes: see queueAheadSeconds). */
export function sqsSlotQueue(client: SQSClient, queueUrl: string, now: () => number = Date.now): SlotQueue {
  return {
    async send(slots: Slot[]) {
      for (let i = 0; i < slots.length; i += 10) {
        const batch = slots.slice(i, i + 10);
        const out = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((slot, index) => ({
              Id: String(index),
              MessageBody: JSON.stringify({ slot }),
              DelaySeconds: Math.min(900, Math.max(0, Math.ceil((slot.notBefore - now()) / 1000))),
            })),
          }),
        );
        if (out.Failed?.length)
          throw new Error(`SQS refused ${out.Failed.length} slot messages: ${out.Failed[0]?.Code}`);
      }
    },
  };
}
