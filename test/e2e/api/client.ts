/** A tiny HTTP client for the API on the started local stack. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: responses are asserted field by field.
  body: any;
}

export function apiClient(httpUrl: string) {
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
    const response = await fetch(`${httpUrl}${path}`, { method, headers, body });
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

/** The fields of a 400's issues: `['batch[1].event', ...]`. */
export function issueFields(response: ApiResponse): string[] {
  return (response.body?.error?.details?.issues ?? []).map((issue: { field: string }) => issue.field);
}
