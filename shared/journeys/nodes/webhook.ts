/** `webhook`: call an HTTP endpoint with JSON; 5xx, 429, network errors and timeouts are retried by Step Functions. */
import * as z from 'zod';
import { CairnError } from '../../errors.js';
import { stepStates } from '../asl.js';
import { durationSeconds } from '../duration.js';
import type { StepResult } from '../execution.js';
import { duration, nodeId } from '../fields.js';
import { linkTo, type NodeModule, type StepContext } from './types.js';

export const WEBHOOK_DEFAULT_TIMEOUT = 'PT10S';
export const WEBHOOK_MAX_TIMEOUT_SECONDS = 60;
export const WEBHOOK_DEFAULT_RETRIES = 2;

export const webhookNodeSchema = z
  .strictObject({
    type: z.literal('webhook'),
    url: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, { message: 'must be an http:// or https:// URL' })
      .describe('Endpoint to call.'),
    method: z.enum(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']).default('POST'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z
      .unknown()
      .optional()
      .describe('JSON body. Default: { profileId, journeyId, version, nodeId, event }.'),
    timeout: duration.default(WEBHOOK_DEFAULT_TIMEOUT).describe('Per attempt, at most PT60S.'),
    retries: z.number().int().min(0).max(10).default(WEBHOOK_DEFAULT_RETRIES),
    next: nodeId,
  })
  .describe('Call an HTTP endpoint; the response status is recorded.');
export type WebhookNode = z.infer<typeof webhookNodeSchema>;

/**
 * Thrown for a response or failure worth retrying; the Task's Retry lists it by name (`retries`
 * attempts). `responseStatus` is the endpoint's answer, when there was one.
 */
export class WebhookError extends CairnError {
  readonly code = 'webhook_failed';
  readonly status = 502;
  constructor(
    message: string,
    readonly responseStatus?: number,
  ) {
    super(message, responseStatus === undefined ? undefined : { responseStatus });
  }
}

/** What went wrong with a request that got no response: fetch says only `TypeError: fetch failed`. */
const networkCodes: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
};

export function requestFailure(error: unknown, timeout: string): string {
  const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (failure?.name === 'TimeoutError' || failure?.name === 'AbortError')
    return `no response within ${timeout}`;
  const code = failure?.cause?.code;
  if (code) return `${networkCodes[code] ?? failure.cause?.message ?? 'network error'} (${code})`;
  if (failure?.cause?.message) return failure.cause.message;
  return `${failure?.name ?? 'Error'}: ${failure?.message ?? 'unknown'}`;
}

export interface WebhookDeps {
  fetch: typeof fetch;
}

export async function runWebhook(step: StepContext<WebhookNode>, deps: WebhookDeps): Promise<StepResult> {
  const { node } = step;
  if (step.heldOut) return { outcome: 'skipped', reason: 'holdout', next: node.next };
  const body =
    node.body ??
    ({
      profileId: step.profile.profileId,
      journeyId: step.journeyId,
      version: step.version,
      nodeId: step.nodeId,
      event: step.state.entry,
    } as unknown);
  const hasBody = node.method !== 'GET' && node.method !== 'DELETE';
  let response: Response;
  try {
    response = await deps.fetch(node.url, {
      method: node.method,
      headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...node.headers },
      ...(hasBody ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(durationSeconds(node.timeout) * 1000),
    });
  } catch (error) {
    throw new WebhookError(`webhook request failed: ${requestFailure(error, node.timeout)}`);
  }
  await response.body?.cancel();
  if (response.status === 429 || response.status >= 500) {
    throw new WebhookError(`webhook answered ${response.status}`, response.status);
  }
  if (response.status >= 400) return { outcome: 'rejected', status: response.status, next: node.next };
  return { outcome: 'delivered', status: response.status, next: node.next };
}

export const webhookNode: NodeModule<WebhookNode, WebhookDeps> = {
  type: 'webhook',
  schema: webhookNodeSchema,
  links: (node) => linkTo(['next'], node.next),
  pauses: false,
  callsStep: () => true,
  needsProfile: () => false,
  check(node) {
    const seconds = durationSeconds(node.timeout);
    return seconds > WEBHOOK_MAX_TIMEOUT_SECONDS
      ? [{ path: ['timeout'], message: `must be at most PT${WEBHOOK_MAX_TIMEOUT_SECONDS}S` }]
      : [];
  },
  compile: (id, node, { journeyId }) =>
    stepStates({
      journeyId,
      nodeId: id,
      nodeType: 'webhook',
      next: node.next,
      result: { next: node.next },
      timeoutSeconds: durationSeconds(node.timeout) + 10,
      retry:
        node.retries > 0
          ? [
              {
                ErrorEquals: ['WebhookError'],
                IntervalSeconds: 2,
                MaxAttempts: node.retries,
                BackoffRate: 2,
                MaxDelaySeconds: 60,
                JitterStrategy: 'FULL',
              },
            ]
          : [],
    }),
  run: runWebhook,
};
