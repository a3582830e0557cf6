import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useStackApi } from './client.js';

/**
 * YAML alias ("billion laughs") bombs through every route that takes a YAML body, on the started
 * stack: each answers 400 naming the problem, quickly, and the API still answers afterwards. The
 * parser's own limit is tested at parseBody (test/unit/events/before-ack.test.ts); this is that every
 * route goes through it.
 */

/** Nine levels of nine-fold aliases: 9^9 (387 million) leaves once expanded, in under 400 bytes. */
function billionLaughs(key: string) {
  const levels = 'abcdefghi'.split('');
  return [`${levels[0]}: &${levels[0]} [lol, lol, lol, lol, lol, lol, lol, lol, lol]`]
    .concat(levels.slice(1).map((k, i) => `${k}: &${k} [${Array(9).fill(`*${levels[i]}`).join(', ')}]`))
    .concat(`${key}: *${levels.at(-1)}`)
    .join('\n');
}

/** One anchor, aliased under the key a route reads (properties, rules, nodes), 200 times. */
function manyAliases(key: string) {
  return [
    'lol: &lol { x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }',
    `${key}:`,
    ...Array.from({ length: 200 }, (_, i) => `  k${i}: *lol`),
  ].join('\n');
}

describe('YAML alias bombs on every route that takes YAML', () => {
  const api = useStackApi();
  const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const routes: { method: string; path: string; key: string }[] = [
    { method: 'PUT', path: `/journeys/bomb-${suffix}`, key: 'nodes' },
    { method: 'PUT', path: `/segments/bomb-${suffix}`, key: 'where' },
    { method: 'POST', path: '/v1/track', key: 'properties' },
    { method: 'POST', path: '/v1/batch', key: 'batch' },
  ];

  for (const { method, path, key } of routes) {
    for (const [name, body] of [
      ['billion laughs', billionLaughs(key)],
      ['200 aliases of one anchor', manyAliases(key)],
    ] as const) {
      it(`${method} ${path.replace(suffix, '…')} with ${name}: 400 naming the aliases`, async () => {
        const started = Date.now();
        const out = await api.request(method, path, {
          raw: body,
          contentType: 'application/yaml',
          ...(path.startsWith('/v1/') ? {} : { auth: 'Bearer dev-token' }),
        });
        assert.equal(out.status, 400, JSON.stringify(out.body));
        assert.equal(out.body.error.code, 'validation_failed', JSON.stringify(out.body));
        assert.match(JSON.stringify(out.body.error), /aliases expand too much/);
        assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
      });
    }
  }

  it('within the alias limit, an expansion is still held to the size limits: 90 aliases of a 5,000-item list', async () => {
    for (const { method, path, key } of routes) {
      const body = [
        `big: &big [${Array(5000).fill('1').join(',')}]`,
        `${key}:`,
        ...Array.from({ length: 90 }, (_, i) => `  k${i}: *big`),
      ].join('\n');
      const started = Date.now();
      const out = await api.request(method, path, {
        raw: body,
        contentType: 'application/yaml',
        ...(path.startsWith('/v1/') ? {} : { auth: 'Bearer dev-token' }),
      });
      assert.ok(
        [400, 413].includes(out.status),
        `${path}: ${out.status} ${JSON.stringify(out.body).slice(0, 300)}`,
      );
      assert.ok(Date.now() - started < 10_000, `${path} answered in ${Date.now() - started} ms`);
    }
  });

  it('a few aliases are still YAML as usual, and nothing of the bombs was kept', async () => {
    const ok = await api.putYaml(
      `/segments/bomb-${suffix}`,
      [
        `id: bomb-${suffix}`,
        `name: &n Bomb ${suffix}`,
        'description: *n',
        // A trait no other test sets: the stack is shared, and a segment matching ordinary profiles
        // would add memberships to other files' people (the erasure test counts them).
        `where: { traits: { bombTag: [${suffix}] } }`,
      ].join('\n'),
    );
    assert.ok(ok.status < 300, JSON.stringify(ok.body));
    assert.equal((await api.get(`/journeys/bomb-${suffix}`)).status, 404);
    assert.equal((await api.delete(`/segments/bomb-${suffix}`)).status, 200);
  });
});
