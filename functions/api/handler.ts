import middy from '@middy/core';
import { journeyLanguage } from '../../shared/catalog/language.js';
import { withUnsubscribeSecret } from '../../shared/channels/unsubscribe.js';
import type { HttpApiEvent, HttpApiResult } from '../../shared/http/event.js';
import type { Router } from '../../shared/http/router.js';
import { createLogger } from '../../shared/log.js';
import { invalidateActiveJourneys } from '../../shared/runtime/reactor.js';
import { apiConfig, createApiDeps } from './deps.js';
import { createRouter } from './routes.js';

/**
 * The api Lambda behind API Gateway (HTTP API, payload 2.0), and behind the local HTTP server.
 * Clients and stores are created on the first request of a container, not at import.
 */
const log = createLogger({ component: 'api' });
let router: Promise<Router> | undefined;

function api(): Promise<Router> {
  router ??= withUnsubscribeSecret(process.env).then((env) =>
    createRouter(
      createApiDeps({
        config: apiConfig(env),
        language: journeyLanguage,
        log,
        onJourneysChanged: invalidateActiveJourneys,
      }),
    ),
  );
  // A failed cold start (e.g. the secret could not be read) is retried by the next request.
  router.catch(() => {
    router = undefined;
  });
  return router;
}

export const handler = middy<HttpApiEvent, HttpApiResult>().handler(async (event) => {
  const started = Date.now();
  const result = await (await api()).handle(event);
  // API Gateway's access log has every request; this adds what only the handler knows, quietly.
  const level = result.statusCode >= 500 ? 'warn' : 'debug';
  log[level]('request', {
    requestId: event.requestContext.requestId,
    method: event.requestContext.http.method,
    path: event.rawPath,
    status: result.statusCode,
    ms: Date.now() - started,
  });
  return result;
});
