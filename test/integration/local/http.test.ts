import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type HttpServer, startHttpServer } from '../../../infra/local/http.js';
import { createLogger } from '../../../shared/log.js';
import { advanceClock, readOutbox } from '../../support/local.js';
import { testStack } from '../../support/stack.js';

describe('local HTTP server: API Gateway HTTP API (payload 2.0) in front of the api handler', () => {
  let server: HttpServer;
  const events: APIGatewayProxyEventV2[] = [];
  let reply: (event: APIGatewayProxyEventV2) => Promise<unknown> = async () => ({
    statusCode: 204,
    headers: {},
    body: '',
  });

  before(async () => {
    server = await startHttpServer({
      port: 0,
      maxBodyBytes: 1024,
      invoke: async (_name, event) => {
        events.push(event);
        return reply(event);
      },
      log: createLogger({}, { write: () => {} }),
    });
  });

  after(() => server.close());

  beforeEach(() => {
    events.length = 0;
    server.setReady(true);
  });

  it('answers /health 503 while starting and 200 once ready, and holds API requests until then', async () => {
    server.setReady(false);
    assert.equal((await fetch(`${server.url}/health`)).status, 503);
    const early = await fetch(`${server.url}/profiles`);
    assert.equal(early.status, 503);
    assert.equal(((await early.json()) as { error: { code: string } }).error.code, 'starting');
    server.setReady(true);
    const ready = await fetch(`${server.url}/health`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok' });
    assert.equal(events.length, 0);
  });

  it('builds the v2 event: raw path and query, lower-case joined headers, cookies, text body', async () => {
    await fetch(`${server.url}/v1/track?a=1&a=2&b=x%20y`, {
      method: 'POST',
      headers: [
        ['Authorization', 'Basic ZGV2LXdyaXRlLWtleTo='],
        ['Content-Type', 'application/json'],
        ['X-Multi', 'one'],
        ['X-Multi', 'two'],
        ['Cookie', 'c1=v1; c2=v2'],
      ],
      body: '{"userId":"u"}',
    });
    const event = events[0]!;
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, '$default');
    assert.equal(event.rawPath, '/v1/track');
    assert.equal(event.rawQueryString, 'a=1&a=2&b=x%20y');
    assert.deepEqual(event.queryStringParameters, { a: '1,2', b: 'x y' });
    assert.equal(event.headers.authorization, 'Basic ZGV2LXdyaXRlLWtleTo=');
    assert.match(event.headers['x-multi'] ?? '', /^one, ?two$/);
    assert.deepEqual(event.cookies, ['c1=v1', 'c2=v2']);
    assert.equal(event.body, '{"userId":"u"}');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.requestContext.http.method, 'POST');
    assert.equal(event.requestContext.http.path, '/v1/track');
    assert.equal(event.requestContext.stage, '$default');
    assert.match(event.requestContext.requestId, /^[0-9a-f-]{36}$/);
    assert.equal(
      (event.requestContext as { authorizer?: unknown }).authorizer,
      undefined,
      'no authorizer context locally: the handler checks credentials',
    );
  });

  it('base64-encodes binary bodies', async () => {
    await fetch(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([0, 255, 1]),
    });
    assert.equal(events[0]?.isBase64Encoded, true);
    assert.equal(events[0]?.body, Buffer.from([0, 255, 1]).toString('base64'));
  });

  it('maps structured results (status, headers, cookies, base64 bodies) like API Gateway', async () => {
    reply = async () => ({
      statusCode: 201,
      headers: { 'Content-Type': 'text/plain', 'X-Id': 7 },
      cookies: ['s=1; HttpOnly'],
      body: Buffer.from('created').toString('base64'),
      isBase64Encoded: true,
    });
    const response = await fetch(`${server.url}/things`, { method: 'POST' });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('content-type'), 'text/plain');
    assert.equal(response.headers.get('x-id'), '7');
    assert.equal(response.headers.get('set-cookie'), 's=1; HttpOnly');
    assert.equal(await response.text(), 'created');
  });

  it('sends a result without statusCode as 200 JSON', async () => {
    reply = async () => ({ hello: 'world' });
    const response = await fetch(`${server.url}/x`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(await response.json(), { hello: 'world' });
  });

  it('answers 500 with a JSON error and no stack trace when the handler throws', async () => {
    reply = async () => {
      throw new Error('secret internals at /work/main/shared/x.ts:12');
    };
    const response = await fetch(`${server.url}/x`);
    assert.equal(response.status, 500);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { error: { code: 'internal', message: 'Internal Server Error' } });
    assert.doesNotMatch(text, /secret|\.ts/);
  });

  it('refuses bodies over the limit with 413 before calling the handler', async () => {
    const response = await fetch(`${server.url}/v1/batch`, { method: 'POST', body: 'x'.repeat(2048) });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'payload_too_large');
    assert.equal(events.length, 0);
  });
});

describe('local-only routes of the started stack', () => {
  it('moves the virtual clock by an ISO-8601 duration and reports it', async () => {
    const { httpUrl } = await testStack();
    const before = (await (await fetch(`${httpUrl}/local/clock`)).json()) as { nowMs: number };
    const after = await advanceClock(httpUrl, 'P2D');
    assert.ok(after.nowMs - before.nowMs >= 2 * 86_400_000);
    assert.ok(after.nowMs - before.nowMs < 2 * 86_400_000 + 60_000);
  });

  it('refuses a clock advance it cannot read with a 400 naming the problem', async () => {
    const { httpUrl } = await testStack();
    const response = await fetch(`${httpUrl}/local/clock`, { method: 'POST', body: '{"advance":"P1M"}' });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /months/);
  });

  it('lists the outbox and the dead-letter queue as JSON', async () => {
    const { httpUrl } = await testStack();
    assert.ok(Array.isArray(await readOutbox(httpUrl)));
    const dlq = (await (await fetch(`${httpUrl}/local/dlq`)).json()) as { messages: unknown[] };
    assert.ok(Array.isArray(dlq.messages));
  });
});
