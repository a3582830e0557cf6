/**
 * The subset of the API Gateway HTTP API (payload format 2.0) event and result that Cairn reads and
 * writes. API Gateway sends exactly this to the api Lambda, and the local HTTP server builds the same
 * shape from a Node request, so one handler serves both.
 */
export interface HttpApiEvent {
  version?: string;
  /** `POST /v1/track`, or `$default` behind a catch-all route. Informational: routing uses the path. */
  routeKey?: string;
  rawPath: string;
  rawQueryString?: string;
  /** Lower-case header names (API Gateway v2 lower-cases them). */
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: {
    requestId?: string;
    /** `$default`, or a named stage whose name prefixes `rawPath` (`/prod/journeys`). */
    stage?: string;
    http: { method: string; path?: string; sourceIp?: string };
    /** Set by API Gateway after its authorizer accepted the caller; never by the caller. */
    authorizer?: {
      jwt?: { claims?: Record<string, unknown>; scopes?: string[] | null };
      iam?: Record<string, unknown>;
      lambda?: Record<string, unknown>;
    };
  };
}

export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}
