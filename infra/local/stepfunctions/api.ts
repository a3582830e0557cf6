import { AwsServiceError } from '../edge.js';

/** The AWS API's request checks and response shapes, as the Step Functions service answers them. */

export type ApiInput = Record<string, unknown>;

const namePattern = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: AWS names may not contain control characters.
const controlCharacters = /[\u0000-\u001f\u007f-\u009f]/;
export const maxPayloadBytes = 256 * 1024;
/** Shared by every event (10,000 waiting executions should not hold 40,000 copies of it). */
export const notTruncated = Object.freeze({ truncated: false });

export function json(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

/** Drops undefined fields by copying (deleting would turn the object into a slower, larger dictionary). */
export function compact(details: Record<string, unknown>): Record<string, unknown> {
  let complete = true;
  for (const key in details) if (details[key] === undefined) complete = false;
  if (complete) return details;
  const out: Record<string, unknown> = {};
  for (const key in details) if (details[key] !== undefined) out[key] = details[key];
  return out;
}

export function seconds(ms: number): number {
  return ms / 1000;
}

export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '')
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: '${field}' must not be null`,
    );
  return value;
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function requireName(value: unknown, field: string): string {
  const name = requireString(value, field);
  if (!namePattern.test(name) || controlCharacters.test(name))
    throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
  return name;
}

/** A JSON payload (execution input, task output) within AWS's size limit. */
export function requirePayload(text: string, code: string, what: string): string {
  if (Buffer.byteLength(text) > maxPayloadBytes)
    throw new AwsServiceError(code, `${what} exceeds ${maxPayloadBytes} bytes`);
  try {
    JSON.parse(text);
  } catch {
    throw new AwsServiceError(code, `Invalid ${what.toLowerCase()}: not JSON`);
  }
  return text;
}

export function page<T>(
  all: T[],
  maxResults: unknown,
  nextToken: unknown,
  fallback: number,
): { items: T[]; nextToken?: string } {
  const size = typeof maxResults === 'number' && maxResults > 0 ? Math.min(maxResults, 1000) : fallback;
  const start = typeof nextToken === 'string' && /^\d+$/.test(nextToken) ? Number(nextToken) : 0;
  const items = all.slice(start, start + size);
  return { items, nextToken: start + size < all.length ? String(start + size) : undefined };
}
