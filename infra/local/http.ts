/**
 * The local HTTP API (default :3000): what API Gateway does in front of the api Lambda. Each request
 * becomes an HTTP API payload-format-2.0 event, goes to the same handler that runs on AWS
 * (`cairn-api` from the function registry), and its result becomes the response, with API Gateway's
 * rules for results without a statusCode. Plus `GET /health` and the local-only `/local/*` routes.
 * Errors are `{ error: { code, message } }`, never stack traces.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { edgeLogger } from '../../functions/config.js';
import type { Logger } from '../../shared/log.js';
import type { LocalRoutes } from './edge.js';
import { FunctionNotFoundError, invokeFunction } from './functions.js';
import { BodyTooLargeError, closeServer, listen, readBody, sendJson } from './requests.js';

export interface HttpServerOptions {
  /** 0 = any free port. */
  port: number;
  host?: string;
  /** The function behind the API. Default `cairn-api`. */
  apiFunction?: string;
  /** Invokes the api function. Default: the local function registry. */
  invoke?: (functionName: string, event: APIGatewayProxyEventV2) => Promise<unknown>;
  localRoutes?: LocalRoutes;
  /** API Gateway's payload limit is 10 MB, but Lambda takes at most 6 MB per synchronous invoke. */
  maxBodyBytes?: number;
  /**
   * Awaited before a read (GET) is answered, so a read sees the effects of what the caller sent
   * before it (the stack passes a bounded settle of the bus and the clock). Not for `/health` or
   * the dashboard's files.
   */
  beforeRead?: () => Promise<void>;
  /**
   * Whether `/health` may say ok once ready (default: always). The CLI holds it back while it
   * publishes the example journeys through the open API, so a script polling `/health` finds them.
   */
  isAnnounced?: () => boolean;
  log?: Logger;
}

export interface HttpServer {
  url: string;
  port: number;
  /** `/health` answers 200 once ready, 503 before. */
  setReady(ready: boolean): void;
  close(): Promise<void>;
  /** Lets the process exit while the server listens. */
  unref(): void;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? edgeLogger({ component: 'http' });
  const apiFunction = options.apiFunction ?? 'cairn-api';
  const maxBodyBytes = options.maxBodyBytes ?? 6 * 1024 * 1024;
  const invoke = options.invoke ?? ((name, event) => invokeFunction(name, event, { timeoutMs: 30_000 }));
  let ready = false;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error('request failed', {
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      if (!res.headersSent) sendError(res, 500, 'internal', 'internal error');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/health' && method === 'GET') {
      const healthy = ready && (options.isAnnounced?.() ?? true);
      sendJson(res, healthy ? 200 : 503, { status: healthy ? 'ok' : 'starting' });
      return;
    }
    if (!ready) {
      req.resume();
      sendError(res, 503, 'starting', 'the local stack is still starting; poll GET /health');
      return;
    }
    if (method === 'GET' && options.beforeRead && !skipsReadSettle(url.pathname)) await options.beforeRead();
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendError(res, 413, 'payload_too_large', `request body must be at most ${maxBodyBytes} bytes`);
        return;
      }
      throw error;
    }
    if (url.pathname.startsWith('/local/') && options.localRoutes) {
      let parsed: unknown;
      if (body.length > 0) {
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          sendError(res, 400, 'validation_failed', 'the body is not valid JSON');
          return;
        }
      }
      const answer = await options.localRoutes(method, url, parsed);
      if (answer) {
        sendJson(res, answer.status, answer.body);
        return;
      }
    }
    const event = toApiGatewayEvent(req, url, body);
    let result: unknown;
    try {
      result = await invoke(apiFunction, event);
    } catch (error) {
      if (error instanceof FunctionNotFoundError) {
        sendError(res, 501, 'not_implemented', `the API handler is not available: ${error.message}`);
        return;
      }
      // What API Gateway answers when the integration fails; the detail goes to the log only.
      log.error('api handler failed', {
        requestId: event.requestContext.requestId,
        error: error instanceof Error ? error.name : 'unknown',
      });
      sendError(res, 500, 'internal', 'Internal Server Error');
      return;
    }
    sendResult(res, result);
  }

  const port = await listen(server, options.port, host, 'HTTP API (CAIRN_HTTP_PORT)');
  return {
    url: `http://${host}:${port}`,
    port,
    setReady(value) {
      ready = value;
    },
    close: () => closeServer(server),
    unref() {
      server.unref();
      server.keepAliveTimeout = 3000; // see the edge: Node's agents drop sockets announced with 1 s
    },
  };
}

/** Reads that must not wait: the idle probe has its own bound, the dashboard's files need no data. */
function skipsReadSettle(pathname: string): boolean {
  return pathname === '/local/idle' || pathname === '/app' || pathname.startsWith('/app/');
}

const textTypes =
  /^(text\/|application\/(json|[\w.+-]+\+json|x-www-form-urlencoded|(x-)?yaml|xml|javascript)|application\/[\w.+-]+\+xml)/i;

/** The payload-format-2.0 event API Gateway sends for this request (catch-all `$default` route). */
export function toApiGatewayEvent(req: IncomingMessage, url: URL, body: Buffer): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      continue;
    }
    // API Gateway v2 lower-cases names and joins repeated headers with commas.
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams)
    query[key] = query[key] === undefined ? value : `${query[key]},${value}`;
  const contentType = headers['content-type'] ?? '';
  const isText = body.length === 0 || textTypes.test(contentType) || (contentType === '' && isUtf8(body));
  const now = new Date();
  const method = (req.method ?? 'GET').toUpperCase();
  const requestId = randomUUID();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: !isText,
  };
  if (cookies.length) event.cookies = cookies;
  if (Object.keys(query).length) event.queryStringParameters = query;
  if (body.length) event.body = isText ? body.toString('utf8') : body.toString('base64');
  return event;
}

/** API Gateway's rules for a 2.0 result: a structured response, or anything else sent as JSON with 200. */
function sendResult(res: ServerResponse, result: unknown): void {
  const structured = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!structured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(body);
    return;
  }
  const response = result as {
    statusCode: number;
    headers?: Record<string, string | number | boolean>;
    multiValueHeaders?: Record<string, (string | number | boolean)[]>;
    cookies?: string[];
    body?: string;
    isBase64Encoded?: boolean;
  };
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  for (const [name, values] of Object.entries(response.multiValueHeaders ?? {}))
    headers[name.toLowerCase()] = values.map(String);
  if (response.cookies?.length) headers['set-cookie'] = response.cookies;
  const body =
    response.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(response.body, response.isBase64Encoded ? 'base64' : 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(response.statusCode, headers);
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

function isUtf8(body: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** `23/Nov/2026:14:15:05 +0000`, the format of requestContext.time. */
function apiGatewayTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
