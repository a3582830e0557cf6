/** A tiny HTTP client for the API on the started local stack. */
import { before } from 'node:test';
import { testStack } from '../../support/stack.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: responses are asserted field by field.
  body: any;
}

export type ApiClient = ReturnType<typeof apiClient>;

/** `httpUrl`: the API's base URL, or a function that gives it at the time of each request. */
export function apiClient(httpUrl: string | (() => string)) {
  const baseUrl = typeof httpUrl === 'string' ? () => httpUrl : httpUrl;
  const request = async (
    method: string,
    path: string,
    options: { body?: unknown; raw?: string; contentType?: string; auth?: string | null } = {},
  ): Promise<ApiResponse> => {
    const headers: Record<string, string> = {};
    const auth =
      options.auth === undefined
        ? path.startsWith('/v1/')
          ? `Basic ${Buffer.from('dev-write-key:').toString('base64')}`
          : 'Bearer dev-token'
        : options.auth;
    if (auth) headers.authorization = auth;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(`${baseUrl()}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the assertion on `body` will say so
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };
  return {
    request,
    get: (path: string, auth?: string | null) => request('GET', path, { auth }),
    post: (path: string, body?: unknown) => request('POST', path, { body }),
    put: (path: string, body: unknown) => request('PUT', path, { body }),
    putYaml: (path: string, yaml: string) =>
      request('PUT', path, { raw: yaml, contentType: 'application/yaml' }),
    delete: (path: string) => request('DELETE', path),
  };
}

/**
 * The test stack's API for the suite (or file) it is called in: the stack is started (or found) in a
 * `before` hook, so `httpUrl` and requests work from the first test on.
 */
export function useStackApi(): ApiClient & { readonly httpUrl: string } {
  let httpUrl: string | undefined;
  before(async () => {
    httpUrl = (await testStack()).httpUrl;
  });
  const url = () => {
    if (httpUrl === undefined) throw new Error('the test stack is not started yet: use the API in a test');
    return httpUrl;
  };
  return Object.defineProperty(apiClient(url), 'httpUrl', { get: url }) as ApiClient & {
    readonly httpUrl: string;
  };
}

/** The fields of a 400's issues: `['batch[1].event', ...]`. */
export function issueFields(response: ApiResponse): string[] {
  return (response.body?.error?.details?.issues ?? []).map((issue: { field: string }) => issue.field);
}
