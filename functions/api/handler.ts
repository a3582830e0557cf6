import middy from '@middy/core';
import { journeyLanguage } from '../../shared/catalog/language.js';
import type { HttpApiEvent, HttpApiResult } from '../../shared/http/event.js';
import type { Router } from '../../shared/http/router.js';
import { createLogger } from '../../shared/log.js';
import { invalidateActiveJourneys } from '../../shared/runtime/active-journeys.js';
import { apiConfig, createApiDeps } from './deps.js';
import { createRouter } from './routes.js';

/**
 * The api Lambda behind API Gateway (HTTP API, payload 2.0), and behind the local HTTP server.
 * Clients and stores are created on the first request of a container, not at import; the unsubscribe
 * secret only when `/unsubscribe` first needs it.
 */
const log = createLogger({ component: 'api' });
let router: Router | undefined;

function api(): Router {
  router ??= createRouter(
    createApiDeps({
      config: apiConfig(process.env),
      language: journeyLanguage,
      log,
      onJourneysChanged: invalidateActiveJourneys,
    }),
  );
  return router;
}

export const handler = middy<HttpApiEvent, HttpApiResult>().handler(async (event) => {
  const started = Date.now();
  const result = await api().handle(event);
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
