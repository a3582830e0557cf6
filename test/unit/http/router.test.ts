import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, ValidationError } from '../../../shared/errors.js';
import { constantTokenVerifier, constantWriteKeyVerifier } from '../../../shared/http/auth.js';
import { Router } from '../../../shared/http/router.js';
import { memoryLogger } from '../../../shared/log.js';
import { apiEvent, basic, bearer } from './support.js';

function router(log = memoryLogger()) {
  return new Router({
    writeKeys: constantWriteKeyVerifier(['wk-1', 'wk-2']),
    tokens: constantTokenVerifier('tok'),
    log,
    maxBodyBytes: 64,
  })
    .on('GET', '/things/{id}', 'marketer', (request) => ({
      body: { id: request.params.id, q: request.query },
    }))
    .on('PUT', '/things/{id}', 'marketer', (request) => ({ status: 201, body: { got: request.body() } }))
    .on('POST', '/v1/track', 'writeKey', (request) => ({ body: { principal: request.principal } }))
    .on('GET', '/boom', 'none', () => {
      throw new Error('secret internal detail at /srv/app.js:12');
    })
    .on('GET', '/conflict', 'none', () => {
      throw new ConflictError('already there');
    })
    .on('GET', '/invalid', 'none', () => {
      throw new ValidationError([{ path: ['batch', 3, 'userId'], message: 'userId is required' }]);
    });
}

async function call(r: Router, ...args: Parameters<typeof apiEvent>) {
  const result = await r.handle(apiEvent(...args));
  return { status: result.statusCode, headers: result.headers, body: JSON.parse(result.body) };
}

describe('Router', () => {
  it('matches path parameters and decodes them', async () => {
    const res = await call(router(), 'GET', '/things/a%20b', {
      headers: { authorization: bearer('tok') },
      query: { x: '1' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { id: 'a b', q: { x: '1' } });
  });

  it('ignores the stage prefix of a named API Gateway stage', async () => {
    const event = apiEvent('GET', '/prod/things/7', { headers: { authorization: bearer('tok') } });
    event.requestContext.stage = 'prod';
    const result = await router().handle(event);
    assert.equal(result.statusCode, 200);
    assert.equal(JSON.parse(result.body).id, '7');
  });

  it('answers 404 JSON for an unknown path', async () => {
    const res = await call(router(), 'GET', '/nope', { headers: { authorization: bearer('tok') } });
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'not_found');
  });

  it('answers 405 with Allow for a known path and another method', async () => {
    const res = await call(router(), 'DELETE', '/things/1', { headers: { authorization: bearer('tok') } });
    assert.equal(res.status, 405);
    assert.equal(res.body.error.code, 'method_not_allowed');
    assert.equal(res.headers.allow, 'GET, PUT');
  });

  it('maps a thrown CairnError to its status and code', async () => {
    const res = await call(router(), 'GET', '/conflict');
    assert.equal(res.status, 409);
    assert.deepEqual(res.body, { error: { code: 'conflict', message: 'already there' } });
  });

  it('lists validation issues with their paths', async () => {
    const res = await call(router(), 'GET', '/invalid');
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'validation_failed');
    assert.deepEqual(res.body.error.details.issues, [
      { path: ['batch', 3, 'userId'], field: 'batch[3].userId', message: 'userId is required' },
    ]);
  });

  it('answers 500 with a generic message and logs the detail instead', async () => {
    const log = memoryLogger();
    const res = await call(router(log), 'GET', '/boom');
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, { error: { code: 'internal_error', message: 'internal server error' } });
    assert.doesNotMatch(JSON.stringify(res.body), /secret|app\.js/);
    assert.ok(log.lines.some((line) => String(line.errorMessage).includes('secret internal detail')));
  });

  it('answers 503 for throttling from a dependency, so clients retry', async () => {
    const r = new Router({ writeKeys: constantWriteKeyVerifier([]), tokens: constantTokenVerifier('t') }).on(
      'GET',
      '/x',
      'none',
      () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $retryable: {} });
      },
    );
    const res = await call(r, 'GET', '/x');
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'service_unavailable');
  });

  it('parses a YAML body by content-type', async () => {
    const res = await call(router(), 'PUT', '/things/1', {
      rawBody: 'a: 1\nb: [x, y]\n',
      headers: { authorization: bearer('tok'), 'content-type': 'application/yaml' },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { got: { a: 1, b: ['x', 'y'] } });
  });

  it('decodes base64 bodies', async () => {
    const res = await call(router(), 'PUT', '/things/1', {
      body: { a: 'é' },
      base64: true,
      headers: { authorization: bearer('tok') },
    });
    assert.deepEqual(res.body, { got: { a: 'é' } });
  });

  it('answers 400 naming the line for YAML syntax errors', async () => {
    const res = await call(router(), 'PUT', '/things/1', {
      rawBody: 'a: [1\nb: 2',
      headers: { authorization: bearer('tok'), 'content-type': 'text/yaml' },
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /not valid YAML at line \d+/);
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await call(router(), 'PUT', '/things/1', {
      rawBody: '{"a":',
      headers: { authorization: bearer('tok') },
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /not valid JSON/);
  });

  it('answers 415 for other media types and 413 above the body limit', async () => {
    const unsupported = await call(router(), 'PUT', '/things/1', {
      rawBody: '<a/>',
      headers: { authorization: bearer('tok'), 'content-type': 'application/xml' },
    });
    assert.equal(unsupported.status, 415);
    const large = await call(router(), 'PUT', '/things/1', {
      body: { a: 'x'.repeat(100) },
      headers: { authorization: bearer('tok') },
    });
    assert.equal(large.status, 413);
    assert.equal(large.body.error.code, 'payload_too_large');
  });
});

describe('Router auth', () => {
  it('answers 401 JSON when the token is missing or wrong', async () => {
    for (const headers of [{}, { authorization: bearer('nope') }, { authorization: basic('wk-1') }] as Record<
      string,
      string
    >[]) {
      const res = await call(router(), 'GET', '/things/1', { headers });
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'unauthorized');
    }
  });

  it('trusts the API Gateway JWT authorizer when it ran', async () => {
    const res = await call(router(), 'GET', '/things/1', {
      authorizer: { jwt: { claims: { sub: 'user-1' }, scopes: null } },
    });
    assert.equal(res.status, 200);
  });

  it('accepts any configured write key as the Basic user name', async () => {
    for (const key of ['wk-1', 'wk-2']) {
      const res = await call(router(), 'POST', '/v1/track', {
        body: {},
        headers: { authorization: basic(key) },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.principal, { kind: 'writeKey', source: 'cairn.http' });
    }
  });

  it('answers 401 for a missing or wrong write key, and for a Bearer token on /v1', async () => {
    for (const headers of [{}, { authorization: basic('wk-3') }, { authorization: bearer('tok') }] as Record<
      string,
      string
    >[]) {
      const res = await call(router(), 'POST', '/v1/track', { body: {}, headers });
      assert.equal(res.status, 401);
      assert.equal(res.body.error.code, 'unauthorized');
    }
  });

  it('uses the source the write-key authorizer resolved', async () => {
    const res = await call(router(), 'POST', '/v1/track', {
      body: {},
      authorizer: { lambda: { source: 'shop.web' } },
    });
    assert.deepEqual(res.body.principal, { kind: 'writeKey', source: 'shop.web' });
  });
});
