/**
 * The AWS-compatible edge (default :4566): one HTTP server that any AWS SDK v3 client reaches with
 * `AWS_ENDPOINT_URL`. It routes like the AWS front door does, by protocol:
 *   - JSON 1.0 / 1.1 (`X-Amz-Target: <prefix>.<Action>`): DynamoDB is proxied byte for byte to the
 *     DynamoDB Local child process (so its CRC32 header still matches); every other prefix goes to a
 *     registered `EdgeService` (EventBridge `AWSEvents`, Step Functions `AWSStepFunctions`, …);
 *   - REST-JSON (SES v2 `POST /v2/email/outbound-emails`): to a registered `EdgeRestRoute`;
 *   - Query (form-encoded `Action=…`, XML answers; SNS): to the `EdgeQueryService` named by the
 *     request signature's service (`Credential=…/<region>/sns/aws4_request`);
 *   - `/local/*`: the local-only routes (outbox, DLQ, clock), the same ones the HTTP server serves.
 * Signatures are not checked: any dummy credentials work, as with DynamoDB Local.
 */
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { edgeLogger } from '../../functions/config.js';
import type { Logger } from '../../shared/log.js';
import { BodyTooLargeError, closeServer, listen, readBody } from './requests.js';

/** An AWS error as the SDKs parse it: `__type` (the code), `message`, and an HTTP status. */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }

  get __type(): string {
    return this.code;
  }
}

/** A JSON-protocol service: receives every request whose `X-Amz-Target` starts with `targetPrefix.` */
export interface EdgeService {
  /** e.g. `AWSEvents`, `AWSStepFunctions`. */
  targetPrefix: string;
  /** `action` is what follows the dot (`PutEvents`); `body` the parsed JSON. Throw AwsServiceError for AWS errors. */
  handle(action: string, body: unknown): Promise<unknown>;
}

/** A REST-JSON operation (SES v2): exact method and path, or a path ending in `/*` for a prefix (`/schedules/{Name}`). */
export interface EdgeRestRoute {
  method: string;
  path: string;
  handle(body: unknown, url?: URL): Promise<unknown>;
}

/** A Query-protocol service (SNS): form-encoded parameters in, XML out. */
export interface EdgeQueryService {
  /** The SigV4 signing name the SDK puts in the credential scope, e.g. `sns`. */
  signingName: string;
  xmlNamespace: string;
  /** The `<Action>Result` content: objects become elements, a `Map` becomes `<entry><key/><value/></entry>`s. */
  handle(action: string, params: URLSearchParams): Promise<Record<string, unknown>>;
}

/** Answers `/local/*` requests; resolves undefined for paths it does not know. */
export type LocalRoutes = (
  method: string,
  url: URL,
  body: unknown,
) => Promise<{ status: number; body: unknown } | undefined>;

export interface EdgeOptions {
  /** 0 = any free port. */
  port: number;
  host?: string;
  services?: readonly EdgeService[];
  restRoutes?: readonly EdgeRestRoute[];
  queryServices?: readonly EdgeQueryService[];
  /** Where DynamoDB Local listens; undefined while it is starting (requests get a 503 meanwhile). */
  dynamoDbEndpoint?: () => string | undefined;
  localRoutes?: LocalRoutes;
  /** Whether the whole stack is ready: `GET /health` answers 503 `starting` until then. Default: ready. */
  isReady?: () => boolean;
  /** Largest request body accepted for the local services (DynamoDB requests stream through). */
  maxBodyBytes?: number;
  log?: Logger;
}

export interface EdgeServer {
  url: string;
  port: number;
  /** Adds a service after start (the Step Functions service is created once DynamoDB is up). */
  register(service: EdgeService): void;
  close(): Promise<void>;
  /** Lets the process exit while the server listens. */
  unref(): void;
}

const dynamoDbPrefixes = ['DynamoDB_20120810', 'DynamoDBStreams_20120810'];

export async function startEdgeServer(options: EdgeOptions): Promise<EdgeServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? edgeLogger({ component: 'edge' });
  const maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const services = new Map<string, EdgeService>();
  for (const service of options.services ?? []) services.set(service.targetPrefix, service);
  const restRoutes = new Map(
    (options.restRoutes ?? []).map((route) => [`${route.method} ${route.path}`, route]),
  );
  const queryServices = new Map(
    (options.queryServices ?? []).map((service) => [service.signingName, service]),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      log.error('edge request failed', { error: errorName(error) });
      if (!res.headersSent)
        sendAwsError(
          res,
          'application/x-amz-json-1.1',
          new AwsServiceError('InternalFailure', 'internal error', 500),
        );
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = header(req, 'x-amz-target');
    if (target) {
      const dot = target.lastIndexOf('.');
      const prefix = dot > 0 ? target.slice(0, dot) : target;
      const action = dot > 0 ? target.slice(dot + 1) : '';
      if (dynamoDbPrefixes.includes(prefix)) return proxyDynamoDb(req, res);
      return handleJsonProtocol(req, res, prefix, action);
    }
    const url = new URL(req.url ?? '/', 'http://edge');
    const method = req.method ?? 'GET';
    if (
      method === 'POST' &&
      (header(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded')
    )
      return handleQueryProtocol(req, res);
    const rest =
      restRoutes.get(`${method} ${url.pathname}`) ??
      options.restRoutes?.find(
        (r) => r.method === method && r.path.endsWith('/*') && url.pathname.startsWith(r.path.slice(0, -1)),
      );
    if (rest) return handleRest(req, res, rest, url);
    if (url.pathname.startsWith('/local/') && options.localRoutes) {
      const body = await readJsonBody(req).catch(() => undefined);
      const answer = await options.localRoutes(method, url, body);
      if (answer) return sendRestJson(res, answer.status, answer.body);
    }
    if (method === 'GET' && url.pathname === '/health') {
      const ready = options.isReady?.() ?? true;
      return sendRestJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'starting' });
    }
    sendRestError(
      res,
      new AwsServiceError(
        'UnknownOperationException',
        `No local service answers ${method} ${url.pathname}`,
        404,
      ),
    );
  }

  function proxyDynamoDb(req: IncomingMessage, res: ServerResponse): void {
    const endpoint = options.dynamoDbEndpoint?.();
    if (!endpoint) {
      req.resume();
      sendAwsError(
        res,
        'application/x-amz-json-1.0',
        new AwsServiceError('ServiceUnavailable', 'DynamoDB Local is starting', 503),
      );
      return;
    }
    const upstream = new URL(endpoint);
    const proxied = request(
      {
        agent,
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...withoutHopByHop(req.headers), host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
        answer.pipe(res);
      },
    );
    proxied.on('error', (error) => {
      log.warn('DynamoDB Local request failed', { error: errorName(error) });
      if (!res.headersSent) {
        sendAwsError(
          res,
          'application/x-amz-json-1.0',
          new AwsServiceError('ServiceUnavailable', 'DynamoDB Local did not answer', 503),
        );
      } else res.destroy();
    });
    req.pipe(proxied);
  }

  async function handleJsonProtocol(
    req: IncomingMessage,
    res: ServerResponse,
    prefix: string,
    action: string,
  ): Promise<void> {
    const requestType = header(req, 'content-type') ?? '';
    const contentType = requestType.startsWith('application/x-amz-json-')
      ? requestType
      : 'application/x-amz-json-1.1';
    const service = services.get(prefix);
    if (!service) {
      req.resume();
      sendAwsError(
        res,
        contentType,
        new AwsServiceError('UnknownOperationException', `No local service for ${prefix}`, 400),
      );
      return;
    }
    let body: unknown;
    try {
      body = await readJsonBody(req, maxBodyBytes);
    } catch (error) {
      sendAwsError(res, contentType, toAwsError(error));
      return;
    }
    try {
      const result = await service.handle(action, body ?? {});
      const payload = Buffer.from(JSON.stringify(result ?? {}));
      res.writeHead(200, {
        'content-type': contentType,
        'content-length': String(payload.length),
        'x-amzn-requestid': randomUUID(),
      });
      res.end(payload);
    } catch (error) {
      if (!(error instanceof AwsServiceError))
        log.error('local service failed', { service: prefix, action, error: errorName(error) });
      sendAwsError(res, contentType, toAwsError(error));
    }
  }

  async function handleQueryProtocol(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(header(req, 'authorization') ?? '');
    const service = queryServices.get(scope?.[1] ?? '');
    let params: URLSearchParams;
    try {
      params = new URLSearchParams((await readBody(req, maxBodyBytes)).toString('utf8'));
    } catch (error) {
      sendQueryError(res, toAwsError(error));
      return;
    }
    const action = params.get('Action') ?? '';
    if (!service) {
      sendQueryError(
        res,
        new AwsServiceError(
          'InvalidAction',
          `No local Query-protocol service for ${scope?.[1] ?? 'this request'}`,
        ),
      );
      return;
    }
    try {
      const result = await service.handle(action, params);
      const requestId = randomUUID();
      const xml =
        `<${action}Response xmlns="${service.xmlNamespace}"><${action}Result>${toXml(result)}</${action}Result>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
      const payload = Buffer.from(xml);
      res.writeHead(200, {
        'content-type': 'text/xml',
        'content-length': String(payload.length),
        'x-amzn-requestid': requestId,
      });
      res.end(payload);
    } catch (error) {
      if (!(error instanceof AwsServiceError))
        log.error('local service failed', { service: service.signingName, action, error: errorName(error) });
      sendQueryError(res, toAwsError(error), service.xmlNamespace);
    }
  }

  async function handleRest(
    req: IncomingMessage,
    res: ServerResponse,
    rest: EdgeRestRoute,
    url: URL,
  ): Promise<void> {
    try {
      const body = await readJsonBody(req, maxBodyBytes);
      sendRestJson(res, 200, (await rest.handle(body ?? {}, url)) ?? {});
    } catch (error) {
      if (!(error instanceof AwsServiceError))
        log.error('local service failed', { path: rest.path, error: errorName(error) });
      sendRestError(res, toAwsError(error));
    }
  }

  const port = await listen(server, options.port, host, 'AWS edge (CAIRN_EDGE_PORT)');
  return {
    url: `http://${host}:${port}`,
    port,
    register(service) {
      services.set(service.targetPrefix, service);
    },
    unref() {
      server.unref();
      // Idle keep-alive connections would hold the process for the whole timeout; 3 s, not 1: Node's
      // agents reuse a socket only when the announced timeout leaves more than a second (a 1 s hint
      // made every SDK request of tests and benchmarks open a new connection).
      server.keepAliveTimeout = 3000;
    },
    async close() {
      await closeServer(server);
      agent.destroy();
    },
  };
}

async function readJsonBody(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AwsServiceError('SerializationException', 'The request body is not valid JSON', 400);
  }
}

function toAwsError(error: unknown): AwsServiceError {
  if (error instanceof AwsServiceError) return error;
  if (error instanceof BodyTooLargeError) {
    return new AwsServiceError(
      'RequestEntityTooLargeException',
      `Request must be smaller than ${error.limit} bytes`,
      413,
    );
  }
  return new AwsServiceError('InternalFailure', 'The local service failed; see the stack log', 500);
}

/** JSON 1.0/1.1 error: the SDKs read the code from `x-amzn-errortype` or the body's `__type`. */
function sendAwsError(res: ServerResponse, contentType: string, error: AwsServiceError): void {
  const payload = Buffer.from(JSON.stringify({ __type: error.code, message: error.message }));
  res.writeHead(error.status, {
    'content-type': contentType,
    'content-length': String(payload.length),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': error.code,
  });
  res.end(payload);
}

function sendRestJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(payload);
}

/** Query-protocol error: `<ErrorResponse><Error><Type/><Code/><Message/></Error>`. */
function sendQueryError(res: ServerResponse, error: AwsServiceError, namespace = ''): void {
  const requestId = randomUUID();
  const type = error.status >= 500 ? 'Receiver' : 'Sender';
  const payload = Buffer.from(
    `<ErrorResponse${namespace ? ` xmlns="${namespace}"` : ''}><Error><Type>${type}</Type>` +
      `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
  res.writeHead(error.status, {
    'content-type': 'text/xml',
    'content-length': String(payload.length),
    'x-amzn-requestid': requestId,
  });
  res.end(payload);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function toXml(value: unknown): string {
  if (value instanceof Map)
    return [...value]
      .map(
        ([k, v]) => `<entry><key>${escapeXml(String(k))}</key><value>${escapeXml(String(v))}</value></entry>`,
      )
      .join('');
  if (value && typeof value === 'object')
    return Object.entries(value)
      .map(([name, item]) => `<${name}>${toXml(item)}</${name}>`)
      .join('');
  return escapeXml(String(value ?? ''));
}

/** REST-JSON error: code in `x-amzn-errortype`, `{ message }` in the body. */
function sendRestError(res: ServerResponse, error: AwsServiceError): void {
  const payload = Buffer.from(JSON.stringify({ message: error.message }));
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-errortype': error.code,
  });
  res.end(payload);
}

/** Connection-level headers belong to each hop: the client's socket and ours to DynamoDB Local differ. */
function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const { connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
