import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constantTokenVerifier, constantWriteKeyVerifier } from '../../../shared/http/auth.js';
import { Router } from '../../../shared/http/router.js';
import { apiEvent } from './support.js';

/** Routes that answer something other than JSON, or read bodies of any content type (forms). */
function router() {
  return new Router({ writeKeys: constantWriteKeyVerifier(['wk']), tokens: constantTokenVerifier('tok') })
    .on('POST', '/form', 'none', (request) => ({ body: { text: request.text() } }), { anyContentType: true })
    .on('POST', '/json-only', 'none', (request) => ({ body: { got: request.body() } }))
    .on('GET', '/page', 'none', () => ({
      status: 403,
      contentType: 'text/html; charset=utf-8',
      body: '<p>no</p>',
      headers: { 'cache-control': 'no-store' },
    }));
}

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('Router: non-JSON content', () => {
  it('anyContentType routes accept a form body and read it as text; others still answer 415', async () => {
    const ok = await router().handle(apiEvent('POST', '/form', { rawBody: 'a=1&b=2', headers: form }));
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(JSON.parse(ok.body), { text: 'a=1&b=2' });
    const refused = await router().handle(apiEvent('POST', '/json-only', { rawBody: 'a=1', headers: form }));
    assert.equal(refused.statusCode, 415);
  });

  it('a reply with contentType is sent verbatim with that type, status and headers', async () => {
    const page = await router().handle(apiEvent('GET', '/page'));
    assert.equal(page.statusCode, 403);
    assert.equal(page.body, '<p>no</p>');
    assert.equal(page.headers?.['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers?.['cache-control'], 'no-store');
  });
});
