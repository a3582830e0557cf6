import { NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  authenticateMarketer,
  authenticateWriteKey,
  type Principal,
  type TokenVerifier,
  type WriteKeyVerifier,
} from './auth.js';
import type { HttpApiEvent, HttpApiResult } from './event.js';
import { bodyText, type MediaType, mediaTypeOf, parseBody } from './request.js';
import { errorResponse, json, MethodNotAllowedError } from './respond.js';

/** Who may call a route: ingestion write key, marketer token/JWT, or anyone (health). */
export type RouteAuth = 'writeKey' | 'marketer' | 'none';

export interface HttpRequest {
  method: string;
  path: string;
  /** Path parameters by name, URL-decoded: `{id}` in `/journeys/{id}`. */
  params: Record<string, string>;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  principal: Principal;
  requestId: string;
  mediaType: MediaType;
  /** The body as text ('' when absent). */
  text(): string;
  /** The body parsed as JSON or YAML (by content-type); undefined when empty. 400 on bad syntax. */
  body(): unknown;
}

/**
 * What a route returns: the router serialises it as JSON (default status 200), or with `contentType`
 * sends `body` (a string) verbatim with that content type (e.g. an HTML page).
 */
export interface Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

export type RouteHandler = (request: HttpRequest) => Promise<Reply> | Reply;

export interface RouteOptions {
  /** Largest accepted body in bytes; default the router's `maxBodyBytes`. */
  maxBodyBytes?: number;
  /** Accept any content type (e.g. HTML forms); the route reads `text()`, not `body()`. */
  anyContentType?: boolean;
}

export interface RouterOptions {
  writeKeys: WriteKeyVerifier;
  tokens: TokenVerifier;
  log?: Logger;
  /** Default body limit: 1 MiB. */
  maxBodyBytes?: number;
}

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  auth: RouteAuth;
  handler: RouteHandler;
  maxBodyBytes: number;
  anyContentType: boolean;
}

function split(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

function match(route: Route, parts: string[]): Record<string, string> | undefined {
  if (route.segments.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const segment = route.segments[i]!;
    const part = parts[i]!;
    if (segment.startsWith('{') && segment.endsWith('}')) {
      try {
        params[segment.slice(1, -1)] = decodeURIComponent(part);
      } catch {
        return undefined;
      }
    } else if (segment !== part) {
      return undefined;
    }
  }
  return params;
}

function lowerCaseHeaders(headers: HttpApiEvent['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {}))
    if (value !== undefined) out[key.toLowerCase()] = value;
  return out;
}

/**
 * A small router over API Gateway HTTP API v2 events: matches method + path (`{name}` segments),
 * authenticates per route, parses bodies lazily, and maps every outcome to a JSON response through
 * `errorResponse` (404 unknown path, 405 known path with another method).
 */
export class Router {
  private readonly routes: Route[] = [];
  private readonly maxBodyBytes: number;

  constructor(private readonly options: RouterOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  }

  on(
    method: string,
    pattern: string,
    auth: RouteAuth,
    handler: RouteHandler,
    options: RouteOptions = {},
  ): this {
    this.routes.push({
      method: method.toUpperCase(),
      pattern,
      segments: split(pattern),
      auth,
      handler,
      maxBodyBytes: options.maxBodyBytes ?? this.maxBodyBytes,
      anyContentType: options.anyContentType ?? false,
    });
    return this;
  }

  async handle(event: HttpApiEvent): Promise<HttpApiResult> {
    const method = event.requestContext.http.method.toUpperCase();
    const stage = event.requestContext.stage;
    const staged = stage && stage !== '$default' && event.rawPath.startsWith(`/${stage}/`);
    const path = staged ? event.rawPath.slice(stage.length + 1) : event.rawPath;
    const requestId = event.requestContext.requestId ?? '';
    const log = this.options.log?.child({ requestId, method });
    try {
      const parts = split(path);
      const candidates = this.routes
        .map((route) => ({ route, params: match(route, parts) }))
        .filter((c): c is { route: Route; params: Record<string, string> } => c.params !== undefined);
      if (candidates.length === 0) throw new NotFoundError(`no route for ${method} ${path}`);
      const found = candidates.find((c) => c.route.method === method);
      if (!found) throw new MethodNotAllowedError([...new Set(candidates.map((c) => c.route.method))]);
      const { route, params } = found;

      const principal = await this.authenticate(route.auth, event);
      const headers = lowerCaseHeaders(event.headers);
      const text = bodyText(event, route.maxBodyBytes);
      const mediaType =
        text.trim() === '' || route.anyContentType ? 'json' : mediaTypeOf(headers['content-type']);
      let parsed: { value: unknown } | undefined;
      const query: Record<string, string> = {};
      for (const [key, value] of Object.entries(event.queryStringParameters ?? {})) {
        if (value !== undefined) query[key] = value;
      }
      const request: HttpRequest = {
        method,
        path,
        params,
        query,
        headers,
        principal,
        requestId,
        mediaType,
        text: () => text,
        body: () => {
          parsed ??= { value: parseBody(text, mediaType) };
          return parsed.value;
        },
      };
      const reply = await route.handler(request);
      if (reply.contentType !== undefined) {
        return {
          statusCode: reply.status ?? 200,
          headers: { 'content-type': reply.contentType, ...reply.headers },
          body: String(reply.body),
        };
      }
      return json(reply.status ?? 200, reply.body, reply.headers);
    } catch (error) {
      return errorResponse(error, log);
    }
  }

  private authenticate(auth: RouteAuth, event: HttpApiEvent): Promise<Principal> {
    if (auth === 'writeKey') return authenticateWriteKey(event, this.options.writeKeys);
    if (auth === 'marketer') return authenticateMarketer(event, this.options.tokens);
    return Promise.resolve({ kind: 'anonymous' });
  }
}
