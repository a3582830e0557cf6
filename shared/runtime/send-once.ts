import { EmailSendError, type EmailSender } from '../channels/email.js';
import type { Clock } from '../clock.js';
import { isoAt } from '../clock.js';
import { stableHash } from '../ids.js';
import { TransientStepError } from '../journeys/execution.js';
import type { RuntimeStore, StepWrite } from './store.js';

/** The message id Cairn gives a send: stable per (execution, node), so retries and feedback agree. */
export function messageIdFor(executionName: string, nodeId: string): string {
  return `msg-${stableHash(executionName, nodeId).slice(0, 22)}`;
}

/** What a send needs: the message records, the email sender and the clock. */
export interface SendOnceDeps {
  store: Pick<RuntimeStore, 'claimMessage' | 'getMessage' | 'updateMessage'>;
  email: EmailSender;
  clock: Clock;
  /** The signed link for the profile, naming this message (execution, node). */
  unsubscribeUrl(profileId: string, message: { executionName: string; nodeId: string }): string;
}

/** The message a step sends: who, for which execution, node and template, and the rendered email. */
export interface SendOnceRequest {
  profileId: string;
  executionName: string;
  nodeId: string;
  journeyId: string;
  journeyVersion: number;
  templateId: string;
  message: { to: string; subject: string; html?: string; text?: string; tags: Record<string, string> };
}

/**
 * Sends at most once per (execution, node): a conditional put of the message record before sending,
 * its status after. A retry finds the record and returns the first send's id. A send that failed in
 * a way worth retrying leaves the record in `retry`, which the next attempt may claim again. A crash
 * between the send and the status update leaves `sending`: the retry then does not send again
 * (at most once: a lost email is better than a duplicate).
 */
export async function sendOnce(
  send: SendOnceRequest,
  deps: SendOnceDeps,
): Promise<{ messageId: string; sent?: NonNullable<StepWrite['message']> }> {
  const { executionName, nodeId, message } = send;
  const at = isoAt(deps.clock);
  const key = { executionName, nodeId };
  const messageId = messageIdFor(executionName, nodeId);
  const claimed = await deps.store.claimMessage({
    profileId: send.profileId,
    executionName,
    nodeId,
    journeyId: send.journeyId,
    journeyVersion: send.journeyVersion,
    messageId,
    channel: 'email',
    templateId: send.templateId,
    status: 'sending',
    subject: message.subject,
    createdAt: at,
    history: [{ status: 'sending', at }],
  });
  if (!claimed) {
    const existing = await deps.store.getMessage(executionName, nodeId);
    if (existing?.status === 'failed') throw new EmailSendError(existing.reason ?? 'failed', false);
    return { messageId: existing?.providerMessageId ?? messageId };
  }
  try {
    const { providerMessageId } = await deps.email.send({
      to: message.to,
      subject: message.subject,
      ...(message.html !== undefined && { html: message.html }),
      ...(message.text !== undefined && { text: message.text }),
      tags: { ...message.tags, execution: executionName },
      unsubscribeUrl: deps.unsubscribeUrl(send.profileId, key),
    });
    // `sent` is for the caller to record with the step's counters and timeline entry (one request).
    // Until then the record says `sending`, which a retry never sends again.
    return {
      messageId: providerMessageId || messageId,
      sent: {
        key,
        change: {
          status: 'sent',
          at: isoAt(deps.clock),
          providerMessageId,
          ifStatusIn: ['sending', 'retry'],
        },
      },
    };
  } catch (error) {
    if (error instanceof EmailSendError) {
      await deps.store.updateMessage(key, {
        status: error.retryable ? 'retry' : 'failed',
        at: isoAt(deps.clock),
        reason: error.reason,
        detail: error.reason,
      });
      if (error.retryable) throw new TransientStepError(`email send failed: ${error.reason}`);
    }
    throw error;
  }
}
