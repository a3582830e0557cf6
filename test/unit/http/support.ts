import type { HttpApiEvent } from '../../../shared/http/event.js';

/** An API Gateway HTTP API (payload 2.0) event, as API Gateway sends it. */
export function apiEvent(
  method: string,
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    query?: Record<string, string>;
    base64?: boolean;
    authorizer?: HttpApiEvent['requestContext']['authorizer'];
  } = {},
): HttpApiEvent {
  let body = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  if (body !== undefined && options.base64) body = Buffer.from(body).toString('base64');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: {
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...options.headers,
    },
    queryStringParameters: options.query,
    body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      requestId: 'req-1',
      http: { method, path, sourceIp: '127.0.0.1' },
      ...(options.authorizer && { authorizer: options.authorizer }),
    },
  };
}

export const basic = (writeKey: string) => `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
export const bearer = (token: string) => `Bearer ${token}`;
