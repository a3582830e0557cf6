import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { markHashes, resolveHashes, statesHash } from '../../../infra/local/stepfunctions/intrinsics.js';

// Published test vectors: FIPS 180-2 appendix examples (the 56- and 112-byte messages straddle the
// padding edge, where the interpreter's own digests went wrong) and RFC 1321's MD5 suite.
const nist56 = 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq';
const nist112 =
  'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu';

describe('States.Hash (local)', () => {
  test('matches the published digests, including inputs at and past the SHA padding edge', () => {
    assert.equal(
      statesHash('abc', 'SHA-256'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(nist56.length, 56);
    assert.equal(
      statesHash(nist56, 'SHA-256'),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    assert.equal(statesHash(nist56, 'SHA-1'), '84983e441c3bd26ebaae4aa1f95129e5e54670f1');
    assert.equal(
      statesHash(nist112, 'SHA-384'),
      '09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039',
    );
    assert.equal(
      statesHash(nist112, 'SHA-512'),
      '8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909',
    );
    assert.equal(statesHash('1234567890'.repeat(8), 'MD5'), '57edf4a22be3c955ac49da2e2107b67a');
  });

  test('rejects what AWS rejects, as States.Runtime', () => {
    assert.throws(() => statesHash('x', 'SHA-3'), {
      name: 'States.Runtime',
      message: /Unsupported hash algorithm 'SHA-3'/,
    });
    assert.throws(() => statesHash('x'.repeat(10_001), 'MD5'), {
      name: 'States.Runtime',
      message: /10,000 characters/,
    });
  });

  test('marks whole-value States.Hash fields at any depth and resolves them to digests', () => {
    const { template, changed } = markHashes({
      'h.$': "States.Hash(States.Format('{}/j', $.id), 'SHA-256')",
      nested: { 'x.$': "States.Hash($.s, 'MD5')", 'keep.$': '$.id' },
      plain: 'States.Hash(not a path field)',
    });
    assert.equal(changed, true);
    assert.deepEqual(template, {
      'h.$': "States.Array('cairn:States.Hash', States.Format('{}/j', $.id), 'SHA-256')",
      nested: { 'x.$': "States.Array('cairn:States.Hash', $.s, 'MD5')", 'keep.$': '$.id' },
      plain: 'States.Hash(not a path field)',
    });
    assert.equal(markHashes({ 'a.$': '$.a' }).changed, false);
    assert.deepEqual(resolveHashes({ h: ['cairn:States.Hash', 'abc', 'SHA-256'], list: [1, 'a'] }), {
      h: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      list: [1, 'a'],
    });
  });
});
