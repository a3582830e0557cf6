import { createHash, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../errors.js';
import type { HttpApiEvent } from './event.js';

/**
 * Who is calling. Ingestion (`/v1/*`) authenticates a write key (HTTP Basic, key as user name, the
 * Segment convention); the marketer API authenticates a Bearer token, or trusts API Gateway's JWT /
 * IAM authorizer when it already ran (its context is set by API Gateway, never by the caller).
 */
export type Principal =
  | { kind: 'writeKey'; source: string }
  | { kind: 'marketer'; subject: string; via: 'token' | 'jwt' | 'iam' }
  | { kind: 'anonymous' };

/** Checks a write key. Resolves with the source its events are published under, or undefined. */
export interface WriteKeyVerifier {
  verify(writeKey: string): Promise<{ source: string } | undefined>;
}

/** Checks a marketer's Bearer token when no API Gateway authorizer ran. */
export interface TokenVerifier {
  verify(token: string): Promise<{ subject: string } | undefined>;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Equal-length digests compared in constant time: neither length nor prefix of a secret leaks. */
export function constantTimeEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The hash a write key is stored under (hex sha-256), so the table never holds usable keys. */
export function hashWriteKey(writeKey: string): string {
  return digest(writeKey).toString('hex');
}

/** Write keys from configuration (local: `CAIRN_WRITE_KEY`, default `dev-write-key`). */
export function constantWriteKeyVerifier(keys: readonly string[], source = 'cairn.http'): WriteKeyVerifier {
  return {
    async verify(writeKey) {
      let ok = false;
      // Compare against every key, no early exit: the time taken does not say which key matched.
      for (const key of keys) ok = constantTimeEquals(writeKey, key) || ok;
      return ok ? { source } : undefined;
    },
  };
}

/** Accepts a key when any of the verifiers does (in order): configured keys first, then stored ones. */
export function anyWriteKeyVerifier(...verifiers: WriteKeyVerifier[]): WriteKeyVerifier {
  return {
    async verify(writeKey) {
      for (const verifier of verifiers) {
        const verified = await verifier.verify(writeKey);
        if (verified) return verified;
      }
      return undefined;
    },
  };
}

/** A Bearer token from configuration (local: `CAIRN_API_TOKEN`, default `dev-token`). */
export function constantTokenVerifier(token: string, subject = 'api-token'): TokenVerifier {
  return { verify: async (candidate) => (constantTimeEquals(candidate, token) ? { subject } : undefined) };
}

/** No static token accepted: only API Gateway's authorizer lets marketers in (cloud default). */
export const authorizerOnlyTokenVerifier: TokenVerifier = { verify: async () => undefined };

function header(event: HttpApiEvent, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
}

/** The write key from `Authorization: Basic base64(<key>:)`, or undefined. */
export function basicAuthUser(event: HttpApiEvent): string | undefined {
  const value = header(event, 'authorization');
  const match = value?.match(/^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const user = decoded.includes(':') ? decoded.slice(0, decoded.indexOf(':')) : decoded;
  return user === '' ? undefined : user;
}

export function bearerToken(event: HttpApiEvent): string | undefined {
  const value = header(event, 'authorization');
  const match = value?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

export async function authenticateWriteKey(
  event: HttpApiEvent,
  verifier: WriteKeyVerifier,
): Promise<Principal> {
  // API Gateway's write-key (Lambda) authorizer already checked the key and says which source it is.
  const fromAuthorizer = event.requestContext.authorizer?.lambda?.source;
  if (typeof fromAuthorizer === 'string' && fromAuthorizer !== '')
    return { kind: 'writeKey', source: fromAuthorizer };
  const writeKey = basicAuthUser(event);
  if (!writeKey) {
    throw new UnauthorizedError('missing write key: send HTTP Basic auth with the write key as user name');
  }
  const verified = await verifier.verify(writeKey);
  if (!verified) throw new UnauthorizedError('invalid write key');
  return { kind: 'writeKey', source: verified.source };
}

export async function authenticateMarketer(event: HttpApiEvent, verifier: TokenVerifier): Promise<Principal> {
  const authorizer = event.requestContext.authorizer;
  if (authorizer?.jwt) {
    const sub = authorizer.jwt.claims?.sub;
    return { kind: 'marketer', subject: typeof sub === 'string' ? sub : 'jwt', via: 'jwt' };
  }
  if (authorizer?.iam) {
    const arn = authorizer.iam.userArn;
    return { kind: 'marketer', subject: typeof arn === 'string' ? arn : 'iam', via: 'iam' };
  }
  const token = bearerToken(event);
  if (!token) throw new UnauthorizedError('missing credentials: send Authorization: Bearer <token>');
  const verified = await verifier.verify(token);
  if (!verified) throw new UnauthorizedError('invalid token');
  return { kind: 'marketer', subject: verified.subject, via: 'token' };
}

/** Where hashed write keys live (cloud: the Journeys table, see shared/catalog/write-keys.ts). */
export interface WriteKeyStore {
  /** The key record stored under this hash, or undefined when none is (or it was revoked). */
  findByHash(hash: string): Promise<{ source: string } | undefined>;
}

/**
 * Write keys stored hashed (cloud). Looks the sha-256 of the presented key up: the lookup is by
 * digest, so timing says nothing about the stored keys. Answers (hits and misses) are cached for
 * `cacheMs` per container so steady ingestion costs no DynamoDB read per request.
 */
export function hashedWriteKeyVerifier(
  store: WriteKeyStore,
  options: { now?: () => number; cacheMs?: number; maxCached?: number } = {},
): WriteKeyVerifier & { forget(hash: string): void } {
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 60_000;
  const maxCached = options.maxCached ?? 1_000;
  const cache = new Map<string, { at: number; value: { source: string } | undefined }>();
  return {
    async verify(writeKey) {
      const hash = hashWriteKey(writeKey);
      const hit = cache.get(hash);
      if (hit && now() - hit.at < cacheMs) return hit.value;
      const value = await store.findByHash(hash);
      if (cache.size >= maxCached) cache.delete(cache.keys().next().value as string);
      cache.set(hash, { at: now(), value });
      return value;
    },
    /** Drops a cached answer, so a key revoked through this container stops working at once. */
    forget(hash) {
      cache.delete(hash);
    },
  };
}
