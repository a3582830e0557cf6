/**
 * Helpers for journey tests on the local stack: unique journeys and templates per test (they share
 * one stack), events through the Segment HTTP endpoint, the virtual clock, the outbox, and
 * executions through the real Step Functions client on the edge.
 */

import { after, before } from 'node:test';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { advanceClock, awsClientConfig, readOutbox, uniqueId, waitForIdle } from '../../support/local.js';
import { closedPort } from '../../support/net.js';
import { type TestStackEnv, testStack } from '../../support/stack.js';
import { apiClient } from '../api/client.js';

export { advanceClock, readOutbox, uniqueId, waitForIdle };

/** The kit on the shared test stack, or on `stack` (a file that started a stack of its own). */
export async function journeyTestKit(stack?: TestStackEnv) {
  const { httpUrl, edgeUrl } = stack ?? (await testStack());
  const api = apiClient(httpUrl);
  const sfn = new SFNClient(awsClientConfig(edgeUrl));

  const expectOk = async <T>(label: string, response: Promise<{ status: number; body: T }>): Promise<T> => {
    const out = await response;
    if (out.status >= 300) throw new Error(`${label} → ${out.status} ${JSON.stringify(out.body)}`);
    return out.body;
  };

  return {
    httpUrl,
    edgeUrl,
    api,
    sfn,

    async template(id: string, body: { subject: string; html?: string; text?: string }) {
      await expectOk(`PUT /templates/${id}`, api.put(`/templates/${id}`, body));
    },

    /**
     * Publishes a journey under a fresh id (`journeyId(prefix)`), its templates saved first: by
     * suffix (`{ t: … }` is template `<id>-t`); `definition(id)` is the rest (trigger, start, nodes, …).
     * Returns the id.
     */
    async journey(
      prefix: string,
      templates: Record<string, { subject: string; html?: string; text?: string }>,
      definition: (id: string) => Record<string, unknown>,
    ): Promise<string> {
      const id = journeyId(prefix);
      for (const [suffix, body] of Object.entries(templates)) await this.template(`${id}-${suffix}`, body);
      await this.publish({ id, ...definition(id) });
      return id;
    },

    /**
     * Publishes a journey whose one step is a webhook to a closed port (no retries), so every
     * execution fails there with "connection refused"; triggered by `Start <id>`. Returns the id.
     */
    async failingWebhookJourney(prefix: string): Promise<string> {
      const port = await closedPort();
      return this.journey(prefix, {}, (id) => ({
        trigger: { event: `Start ${id}` },
        start: 'call',
        nodes: {
          call: { type: 'webhook', url: `http://127.0.0.1:${port}/hook`, retries: 0, next: 'done' },
          done: { type: 'exit' },
        },
      }));
    },

    /** Saves and publishes a journey; returns the published version. */
    async publish(definition: Record<string, unknown>): Promise<number> {
      const id = String(definition.id);
      await expectOk(`PUT /journeys/${id}`, api.put(`/journeys/${id}`, { name: id, ...definition }));
      // biome-ignore lint/suspicious/noExplicitAny: response asserted by use
      const out: any = await expectOk(`POST /journeys/${id}/publish`, api.post(`/journeys/${id}/publish`));
      return Number(out.version ?? out.journey?.latestVersion ?? out.published?.version);
    },

    async track(
      userId: string,
      event: string,
      properties: Record<string, unknown> = {},
      extra: Record<string, unknown> = {},
    ) {
      await expectOk('POST /v1/track', api.post('/v1/track', { userId, event, properties, ...extra }));
      await waitForIdle(httpUrl);
    },

    async identify(userId: string, traits: Record<string, unknown>, extra: Record<string, unknown> = {}) {
      await expectOk('POST /v1/identify', api.post('/v1/identify', { userId, traits, ...extra }));
      await waitForIdle(httpUrl);
    },

    async advance(duration: string) {
      await advanceClock(httpUrl, duration);
      await waitForIdle(httpUrl);
    },

    async clockNow(): Promise<number> {
      const response = await fetch(`${httpUrl}/local/clock`);
      return ((await response.json()) as { nowMs: number }).nowMs;
    },

    async profileId(userId: string): Promise<string> {
      // biome-ignore lint/suspicious/noExplicitAny: response asserted by use
      const body: any = await expectOk(
        'GET /profiles',
        api.get(`/profiles?userId=${encodeURIComponent(userId)}`),
      );
      return body.profileId;
    },

    async outbox(journeyId: string) {
      return readOutbox(httpUrl, { journeyId });
    },

    // biome-ignore lint/suspicious/noExplicitAny: response asserted field by field
    async stats(journeyId: string): Promise<any> {
      return expectOk(`GET /journeys/${journeyId}/stats`, api.get(`/journeys/${journeyId}/stats`));
    },

    /** Executions of the journey's state machine (all versions), newest first. */
    async executions(journeyId: string) {
      const machines = await sfn.send(new (await import('@aws-sdk/client-sfn')).ListStateMachinesCommand({}));
      const machine = machines.stateMachines?.find((m) => m.name?.endsWith(journeyId));
      if (!machine?.stateMachineArn) return [];
      const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn }));
      return out.executions ?? [];
    },

    async describe(executionArn: string) {
      return sfn.send(new DescribeExecutionCommand({ executionArn }));
    },

    async history(executionArn: string) {
      const out = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
      return out.events ?? [];
    },
  };
}

/** A journey id that is unique per test and valid (`^[a-z0-9][a-z0-9-]{0,39}$`). */
export function journeyId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36).slice(-5)}${Math.random().toString(36).slice(2, 6)}`.slice(
    0,
    40,
  );
}

/** The graphs many tests publish (`start` and `nodes` of a journey), node ids as the tests read them. */
export const graphs = {
  /** `send` one email, then exit. */
  sendEmail: (template: string) => ({
    start: 'send',
    nodes: { send: { type: 'email', template, next: 'done' }, done: { type: 'exit' } },
  }),
  /** `pause` (a wait node: `{ for }` or `{ until }`), then `send` the email, then exit. */
  waitThenEmail: (template: string, wait: Record<string, unknown>) => ({
    start: 'pause',
    nodes: {
      pause: { type: 'wait', ...wait, next: 'send' },
      send: { type: 'email', template, next: 'done' },
      done: { type: 'exit' },
    },
  }),
  /** `hello` email, `pause` for `wait`, the same email `again`, then exit. */
  emailTwice: (template: string, wait: string) => ({
    start: 'hello',
    nodes: {
      hello: { type: 'email', template, next: 'pause' },
      pause: { type: 'wait', for: wait, next: 'again' },
      again: { type: 'email', template, next: 'done' },
      done: { type: 'exit' },
    },
  }),
};

export type JourneyTestKit = Awaited<ReturnType<typeof journeyTestKit>>;

/**
 * For a file whose tests change the messaging policy (global to the shared stack): `files.kit` is set
 * by a `before` hook that also reads the policy, and an `after` hook puts that policy back.
 */
export function kitKeepingMessagingPolicy(): { readonly kit: JourneyTestKit } {
  const files = {} as { kit: JourneyTestKit };
  let policy: unknown;
  before(async () => {
    files.kit = await journeyTestKit();
    policy = (await files.kit.api.get('/messaging/policy')).body;
  });
  after(async () => {
    await files.kit.api.put('/messaging/policy', policy);
  });
  return files;
}

/** The sort keys of every item under a profile's partition in the local Profiles table (`P#<id>`). */
export async function sortKeysUnderProfile(ddb: DynamoDBDocumentClient, profileId: string) {
  const out = await ddb.send(
    new QueryCommand({
      TableName: 'cairn-profiles',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `P#${profileId}` },
    }),
  );
  return (out.Items ?? []).map((item) => item.sk);
}
