import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { httpErrors, lambdaLog, parsedEvent } from '../../../functions/middleware/index.js';
import { NotFoundError, ValidationError } from '../../../shared/errors.js';
import type { HttpApiResult } from '../../../shared/http/event.js';
import { createLogger, memoryLogger } from '../../../shared/log.js';

const context = (awsRequestId: string) => ({ awsRequestId }) as Context;
const pii = 'ada@example.com';

describe('lambdaLog', () => {
  test('one line per invocation with request and correlation ids, duration and cold start, no event data', async () => {
    const log = memoryLogger();
    let clock = 1_000;
    const handler = middy<{ id: string; email: string }, { ok: boolean }>()
      .use(
        lambdaLog<{ id: string; email: string }, { ok: boolean }>({
          log,
          correlationId: (event) => event.id,
          outcome: (r) => ({ ok: r.ok }),
          now: () => clock,
        }),
      )
      .handler(async () => {
        clock += 25;
        return { ok: true };
      });
    clock = 1_400;
    await handler({ id: 'exec-1', email: pii }, context('req-1'));
    await handler({ id: 'exec-2', email: pii }, context('req-2'));
    assert.deepEqual(
      log.lines.map(({ time: _time, ...line }) => line),
      [
        {
          level: 'info',
          message: 'invocation',
          requestId: 'req-1',
          correlationId: 'exec-1',
          coldStart: true,
          initMs: 400,
          ms: 25,
          ok: true,
        },
        {
          level: 'info',
          message: 'invocation',
          requestId: 'req-2',
          correlationId: 'exec-2',
          coldStart: false,
          ms: 25,
          ok: true,
        },
      ],
    );
    assert.doesNotMatch(JSON.stringify(log.lines), /ada@example/);
  });

  test('a failure is logged by error name and code, never its text, and rethrown unchanged', async () => {
    const log = memoryLogger();
    const thrown = new NotFoundError(`no profile with email ${pii}`);
    const handler = middy<unknown, never>()
      .use(lambdaLog({ log, correlationId: () => 'exec-9' }))
      .handler(async () => {
        throw thrown;
      });
    await assert.rejects(handler({}, context('req-9')), (error) => error === thrown);
    const [line] = log.lines;
    assert.equal(line?.level, 'error');
    assert.equal(line?.errorName, 'NotFoundError');
    assert.equal(line?.code, 'not_found');
    assert.equal(line?.correlationId, 'exec-9');
    assert.doesNotMatch(JSON.stringify(log.lines), /ada@example/);
  });

  test('quiet invocations (level debug) are dropped at info, except the cold start whose timing must show', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({}, { level: 'info', write: (line) => lines.push(JSON.parse(line)) });
    const handler = middy<unknown, string>()
      .use(lambdaLog({ log, level: 'debug' }))
      .handler(async () => 'ok');
    for (let i = 0; i < 3; i++) await handler({}, context(`req-${i}`));
    assert.deepEqual(
      lines.map((line) => [line.requestId, line.coldStart]),
      [['req-0', true]],
    );
  });

  test('concurrent invocations in one process keep their own ids and durations', async () => {
    const log = memoryLogger();
    const gates: (() => void)[] = [];
    const handler = middy<{ id: string }, string>()
      .use(lambdaLog<{ id: string }, string>({ log, correlationId: (event) => event.id }))
      .handler(
        (event) =>
          new Promise<string>((resolve) => {
            gates.push(() => resolve(event.id));
          }),
      );
    const first = handler({ id: 'a' }, context('req-a'));
    const second = handler({ id: 'b' }, context('req-b'));
    await new Promise((resolve) => setImmediate(resolve));
    gates[1]!();
    gates[0]!();
    await Promise.all([first, second]);
    assert.deepEqual(
      log.lines.map((line) => [line.requestId, line.correlationId]),
      [
        ['req-b', 'b'],
        ['req-a', 'a'],
      ],
    );
  });
});

describe('parsedEvent', () => {
  const schema = z.object({
    execution: z.string(),
    input: z.object({ profileId: z.string() }),
    retries: z.number().default(0),
  });

  test('the handler receives the parsed event (defaults applied)', async () => {
    const handler = middy<unknown, unknown>()
      .use(parsedEvent(schema))
      .handler(async (event) => event);
    assert.deepEqual(await handler({ execution: 'x', input: { profileId: 'p' } }, context('r')), {
      execution: 'x',
      input: { profileId: 'p' },
      retries: 0,
    });
  });

  test('a bad event is a ValidationError naming every field path, and the handler never runs', async () => {
    let ran = false;
    const handler = middy<unknown, unknown>()
      .use(parsedEvent(schema))
      .handler(async () => {
        ran = true;
      });
    await assert.rejects(handler({ input: { profileId: 7 } }, context('r')), (error) => {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.name, 'ValidationError');
      assert.deepEqual(
        error.issues.map((issue) => issue.path.join('.')),
        ['execution', 'input.profileId'],
      );
      return true;
    });
    assert.equal(ran, false);
  });
});

describe('httpErrors', () => {
  const failing = (error: unknown) =>
    middy<unknown, HttpApiResult>()
      .use(httpErrors())
      .handler(async () => {
        throw error;
      });
  const body = (result: HttpApiResult) =>
    JSON.parse(String(result.body)) as { error: { code: string; message: string } };

  test('a Cairn error becomes its status and the one error shape', async () => {
    const result = await failing(new NotFoundError('journey welcome not found'))({}, context('r'));
    assert.equal(result.statusCode, 404);
    assert.deepEqual(body(result), { error: { code: 'not_found', message: 'journey welcome not found' } });
  });

  test('anything else is a 500 that leaks neither the message nor a stack', async () => {
    const result = await failing(new TypeError(`cannot read secret of ${pii}`))({}, context('r'));
    assert.equal(result.statusCode, 500);
    assert.doesNotMatch(String(result.body), /ada@example|TypeError|at /);
  });

  test('throttling is a 503 the client may retry', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const result = await failing(throttled)({}, context('r'));
    assert.equal(result.statusCode, 503);
    assert.equal(result.headers?.['retry-after'], '1');
  });
});

describe('the step handler', () => {
  test('refuses a malformed request with the field path before touching any store', async () => {
    const { handler } = await import('../../../functions/step/handler.js');
    await assert.rejects(handler({ journeyId: 'welcome' }, context('r')), (error) => {
      assert.ok(error instanceof ValidationError);
      assert.ok(error.issues.some((issue) => issue.path.join('.') === 'execution'));
      return true;
    });
  });
});
