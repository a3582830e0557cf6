import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { executionNameOf } from '../../../shared/journeys/execution.js';
import { type BranchNode, runBranch } from '../../../shared/journeys/nodes/branch.js';
import type { EmailNode } from '../../../shared/journeys/nodes/email.js';
import { runExit } from '../../../shared/journeys/nodes/exit.js';
import {
  type MessageDeps,
  type MessageToSend,
  runMessage,
  type SendOutcome,
  type TemplateVariables,
} from '../../../shared/journeys/nodes/message.js';
import type { SmsNode } from '../../../shared/journeys/nodes/sms.js';
import type { StepContext } from '../../../shared/journeys/nodes/types.js';
import { runUpdate, type UpdateNode } from '../../../shared/journeys/nodes/update.js';
import {
  awaitedEventMatches,
  awaitedEventOf,
  runWaitFor,
  type WaitForDeps,
  type WaitForNode,
} from '../../../shared/journeys/nodes/waitFor.js';
import { runWebhook, WebhookError, type WebhookNode } from '../../../shared/journeys/nodes/webhook.js';
import { stepRequestSchema } from '../../../shared/journeys/step.js';

function step<N>(node: N, overrides: Partial<StepContext<N>> = {}): StepContext<N> {
  return {
    journeyId: 'cart-recovery',
    version: 2,
    nodeId: 'n1',
    node,
    executionName: 'cart-recovery-v2-abc',
    state: {
      profileId: 'p1',
      journeyId: 'cart-recovery',
      version: 2,
      entry: { event: 'Product Added', properties: { cartId: 'c-9', price: 10 } },
    },
    profile: { profileId: 'p1', traits: { email: 'ada@example.com', firstName: 'Ada', plan: 'pro' } },
    now: Date.parse('2026-01-01T00:00:00Z'),
    heldOut: false,
    ...overrides,
  };
}

describe('message step (email, sms, push)', () => {
  const node: EmailNode = { type: 'email', template: 'cart-reminder', category: 'marketing', next: 'vip' };
  const fakes = (outcome: SendOutcome = { outcome: 'sent', messageId: 'm-1' }) => {
    const asked: { message: MessageToSend; variables: TemplateVariables }[] = [];
    const deps: MessageDeps = {
      sendMessage: async (message, variables) => {
        asked.push({ message, variables });
        return outcome;
      },
      unsubscribeUrl: (profileId, message, topic) =>
        `https://u.example.com/?p=${profileId}&n=${message.nodeId}${topic ? `&topic=${topic}` : ''}`,
    };
    return { deps, asked };
  };

  it('hands the gateway the channel, template, category and topic, with profile, entry properties, journey and unsubscribe link', async () => {
    const { deps, asked } = fakes();
    assert.deepEqual(await runMessage(step(node), deps), {
      outcome: 'sent',
      messageId: 'm-1',
      next: 'vip',
      until: '2026-01-01T00:00:00Z',
    });
    assert.deepEqual(asked, [
      {
        message: { channel: 'email', template: 'cart-reminder', category: 'marketing', heldOut: false },
        variables: {
          profile: {
            email: 'ada@example.com',
            firstName: 'Ada',
            plan: 'pro',
            computed: {},
            stage: null,
            scores: {},
            profileId: 'p1',
          },
          event: { cartId: 'c-9', price: 10 },
          journey: { id: 'cart-recovery', version: 2 },
          unsubscribe_url: 'https://u.example.com/?p=p1&n=n1',
        },
      },
    ]);
    const sms: SmsNode = {
      type: 'sms',
      template: 'promo',
      category: 'transactional',
      topic: 'deals',
      next: 'done',
    };
    const other = fakes({ outcome: 'sent', messageId: 'm-2', parts: 2 });
    const result = await runMessage(step(sms, { heldOut: true }), other.deps);
    assert.equal(result.parts, 2);
    assert.deepEqual(other.asked[0]!.message, {
      channel: 'sms',
      template: 'promo',
      category: 'transactional',
      topic: 'deals',
      heldOut: true,
    });
    assert.equal(other.asked[0]!.variables.unsubscribe_url, 'https://u.example.com/?p=p1&n=n1&topic=deals');
  });

  it('returns a skip with its reason and detail, and a hold with the instant to wait for (whole seconds)', async () => {
    const cases: [SendOutcome, Record<string, unknown>][] = [
      [
        { outcome: 'skipped', reason: 'no_address', detail: 'no email address' },
        {
          outcome: 'skipped',
          reason: 'no_address',
          detail: 'no email address',
          until: '2026-01-01T00:00:00Z',
        },
      ],
      [
        { outcome: 'held', until: '2026-01-01T08:00:00.000Z', reason: 'quiet_hours' },
        { outcome: 'held', reason: 'quiet_hours', until: '2026-01-01T08:00:00Z' },
      ],
    ];
    for (const [outcome, expected] of cases) {
      assert.deepEqual(await runMessage(step(node), fakes(outcome).deps), { ...expected, next: 'vip' });
    }
  });

  it('asks for the best send time on the first visit only, not when the node runs again after a hold', async () => {
    const best: EmailNode = { ...node, sendAt: { best: true, within: 'PT12H', default: '10:00' } };
    const first = fakes();
    await runMessage(step(best), first.deps);
    assert.deepEqual(first.asked[0]!.message.sendAt, { within: 'PT12H', default: '10:00' });
    const again = fakes();
    const base = step(best);
    await runMessage(
      step(best, { state: { ...base.state, last: { nodeId: 'n1', outcome: 'held', next: 'vip' } } }),
      again.deps,
    );
    assert.equal(again.asked[0]!.message.sendAt, undefined);
    const shorthand = fakes();
    await runMessage(step({ ...node, sendAt: 'best' as const }), shorthand.deps);
    assert.deepEqual(shorthand.asked[0]!.message.sendAt, { within: 'P1D' });
  });
});

describe('webhook step', () => {
  async function withServer(
    status: number,
    run: (url: string, seen: { method?: string; body: string }[]) => Promise<void>,
  ) {
    const seen: { method?: string; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += chunk;
      });
      req.on('end', () => {
        seen.push({ method: req.method, body });
        res.writeHead(status).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen);
    } finally {
      server.close();
    }
  }
  const node = (url: string): WebhookNode => ({
    type: 'webhook',
    url,
    method: 'POST',
    timeout: 'PT5S',
    retries: 2,
    next: 'done',
  });

  it('POSTs the default JSON body and records the status', async () => {
    await withServer(202, async (url, seen) => {
      assert.deepEqual(await runWebhook(step(node(url)), { fetch }), {
        outcome: 'delivered',
        status: 202,
        next: 'done',
      });
      assert.equal(seen[0]?.method, 'POST');
      assert.deepEqual(JSON.parse(seen[0]!.body), {
        profileId: 'p1',
        journeyId: 'cart-recovery',
        version: 2,
        nodeId: 'n1',
        event: { event: 'Product Added', properties: { cartId: 'c-9', price: 10 } },
      });
    });
  });

  it('a 4xx is rejected and the journey moves on; a 5xx throws WebhookError for the ASL to retry', async () => {
    await withServer(404, async (url) => {
      assert.deepEqual(await runWebhook(step(node(url)), { fetch }), {
        outcome: 'rejected',
        status: 404,
        next: 'done',
      });
    });
    await withServer(503, async (url) => {
      await assert.rejects(
        runWebhook(step(node(url)), { fetch }),
        (e: unknown) => e instanceof WebhookError && e.name === 'WebhookError' && e.responseStatus === 503,
      );
    });
  });

  it('a network failure throws WebhookError; a holdout sends nothing', async () => {
    const failing = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await assert.rejects(runWebhook(step(node('http://x.invalid')), { fetch: failing }), WebhookError);
    assert.deepEqual(
      await runWebhook(step(node('http://x.invalid'), { heldOut: true }), { fetch: failing }),
      {
        outcome: 'skipped',
        reason: 'holdout',
        next: 'done',
      },
    );
  });
});

describe('waitFor step', () => {
  const node: WaitForNode = {
    type: 'waitFor',
    event: 'Order Completed',
    match: ['cartId'],
    timeout: 'PT1H',
    // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
    then: 'done',
    else: 'reminder',
  };

  it('stores the task token with the awaited event and its expiry', async () => {
    const saved: Parameters<WaitForDeps['saveTaskToken']>[0][] = [];
    const result = await runWaitFor(step(node, { taskToken: 'tok' }), {
      saveTaskToken: async (w) => void saved.push(w),
    });
    assert.deepEqual(result, { outcome: 'waiting', next: null });
    assert.deepEqual(saved, [
      {
        taskToken: 'tok',
        executionName: 'cart-recovery-v2-abc',
        profileId: 'p1',
        journeyId: 'cart-recovery',
        version: 2,
        nodeId: 'n1',
        awaited: { event: 'Order Completed', match: { cartId: 'c-9' } },
        expiresAt: Date.parse('2026-01-01T01:00:00Z'),
      },
    ]);
  });

  it('matches the awaited event by name, match keys and where pattern', () => {
    const awaited = awaitedEventOf(
      { ...node, where: { properties: { total: [{ numeric: ['>', 0] }] } } },
      { cartId: 'c-9' },
    );
    const matches = (event: string, properties: Record<string, unknown>) =>
      awaitedEventMatches(awaited, { event, properties });
    assert.equal(matches('Order Completed', { cartId: 'c-9', total: 5 }), true);
    assert.equal(matches('Order Completed', { cartId: 'c-8', total: 5 }), false);
    assert.equal(matches('Order Completed', { cartId: 'c-9', total: 0 }), false);
    assert.equal(matches('Order Refunded', { cartId: 'c-9', total: 5 }), false);
  });

  it('a match key missing from the entry never matches', () => {
    const awaited = awaitedEventOf(node, {});
    assert.equal(awaitedEventMatches(awaited, { event: 'Order Completed', properties: {} }), false);
  });
});

describe('branch step', () => {
  const node: BranchNode = {
    type: 'branch',
    cases: [
      { when: { traits: { plan: ['enterprise'] } }, next: 'sales' },
      {
        when: { traits: { plan: ['pro'] }, properties: { price: [{ numeric: ['>=', 10] }] } },
        next: 'coupon',
      },
      { when: { segment: 'vips' }, next: 'vip' },
    ],
    default: 'done',
  };

  it('takes the first case whose conditions all hold', async () => {
    assert.deepEqual(await runBranch(step(node), {}), { outcome: 'matched', next: 'coupon', caseIndex: 1 });
  });

  it('asks about segments only when earlier cases fail, and takes the default when none holds', async () => {
    const profile = { profileId: 'p1', traits: { plan: 'free' } };
    assert.deepEqual(await runBranch(step(node, { profile }), { isInSegment: async () => true }), {
      outcome: 'matched',
      next: 'vip',
      caseIndex: 2,
    });
    assert.deepEqual(await runBranch(step(node, { profile }), { isInSegment: async () => false }), {
      outcome: 'default',
      next: 'done',
    });
    await assert.rejects(runBranch(step(node, { profile }), {}), /segment/);
  });
});

describe('update and exit steps', () => {
  it('update applies set and increment to the profile', async () => {
    const node: UpdateNode = { type: 'update', set: { vip: true }, increment: { visits: 1 }, next: 'done' };
    const changes: unknown[] = [];
    const result = await runUpdate(step(node), {
      updateTraits: async (profileId, change) => void changes.push({ profileId, change }),
    });
    assert.deepEqual(result, { outcome: 'updated', next: 'done' });
    assert.deepEqual(changes, [
      { profileId: 'p1', change: { set: { vip: true }, increment: { visits: 1 } } },
    ]);
  });

  it('exit completes', async () => {
    assert.deepEqual(await runExit(), { outcome: 'completed', next: null });
  });
});

describe('step request', () => {
  it('parses the payload the compiled Task sends, and names the execution from its ARN', () => {
    const request = stepRequestSchema.parse({
      journeyId: 'cart-recovery',
      version: 2,
      nodeId: 'reminder',
      nodeType: 'email',
      action: 'run',
      execution: 'arn:aws:states:us-east-1:000000000000:execution:cairn-cart-recovery:cart-recovery-v2-abc',
      input: {
        profileId: 'p1',
        journeyId: 'cart-recovery',
        version: 2,
        entry: { event: 'Product Added', properties: {} },
        last: { nodeId: 'bought', outcome: 'timedOut', next: 'reminder' },
      },
    });
    assert.equal(executionNameOf(request.execution), 'cart-recovery-v2-abc');
    assert.equal(request.input.last?.outcome, 'timedOut');
  });
});
