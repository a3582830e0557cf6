import { createHash } from 'node:crypto';

/**
 * `States.Hash` as AWS computes it, by Node's crypto. The interpreter's own digests are wrong for
 * every input of 56 bytes or more (MD5, SHA-1, SHA-256; 112 bytes for SHA-384/512) and for non-ASCII
 * text, so local split arms would differ from AWS's. A field whose whole value is a `States.Hash(…)`
 * call is compiled to `States.Array('cairn:States.Hash', …)` (the interpreter still evaluates the
 * arguments, nested intrinsics included); the service swaps each such marker for the digest before
 * the state's result is used. `States.Hash` nested inside another intrinsic stays the interpreter's.
 */
const marker = 'cairn:States.Hash';
const callPrefix = 'States.Hash(';

const algorithms: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/** Thrown for arguments AWS rejects too; its name is the ASL error. */
export class IntrinsicError extends Error {
  override readonly name = 'States.Runtime';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A payload template (Parameters) with every top-level `States.Hash(…)` field value marked; `changed` says if any was. */
export function markHashes(template: Json): { template: Json; changed: boolean } {
  let changed = false;
  const walk = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    const out: { [key: string]: Json } = {};
    for (const [key, field] of Object.entries(value)) {
      if (key.endsWith('.$') && typeof field === 'string' && field.trim().startsWith(callPrefix)) {
        changed = true;
        out[key] = `States.Array('${marker}', ${field.trim().slice(callPrefix.length)}`;
      } else out[key] = walk(field);
    }
    return out;
  };
  return { template: walk(template), changed };
}

/** `value` with every marked hash replaced by its digest (lowercase hex, as AWS returns it). */
export function resolveHashes(value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 3 && value[0] === marker) return statesHash(value[1], value[2]);
    return value.map(resolveHashes);
  }
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = resolveHashes(field);
  return out;
}

/** `States.Hash(data, algorithm)`: UTF-8 bytes of `data`, hex digest; AWS's limits and messages. */
export function statesHash(data: unknown, algorithm: unknown): string {
  if (typeof data !== 'string' || typeof algorithm !== 'string') {
    throw new IntrinsicError('Intrinsic function States.Hash takes a string and an algorithm name');
  }
  if (data.length > 10_000) {
    throw new IntrinsicError(
      'Intrinsic function States.Hash cannot hash a string with more than 10,000 characters',
    );
  }
  const name = algorithms[algorithm];
  if (!name) {
    throw new IntrinsicError(
      `Unsupported hash algorithm '${algorithm}' provided to intrinsic function States.Hash. The supported algorithms are: ${Object.keys(algorithms).join(', ')}`,
    );
  }
  return createHash(name).update(data, 'utf8').digest('hex');
}
