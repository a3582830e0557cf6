import middy from '@middy/core';
import { journeyLanguage } from '../../shared/catalog/language.js';
import type { HttpApiEvent, HttpApiResult } from '../../shared/http/event.js';
import type { Router } from '../../shared/http/router.js';
import { edgeLogger } from '../config.js';
import { httpErrors, lambdaLog } from '../middleware/index.js';
import { apiConfig, createApiDeps } from './deps.js';
import { createRouter } from './routes.js';

/**
 * The api Lambda behind API Gateway (HTTP API, payload 2.0), and behind the local HTTP server.
 * Clients and stores are created on the first request of a container, not at import; the unsubscribe
 * secret only when `/unsubscribe` first needs it.
 */
const log = edgeLogger({ component: 'api' });
let router: Router | undefined;

function api(): Router {
  router ??= createRouter(
    createApiDeps({
      config: apiConfig(process.env),
      language: journeyLanguage,
      log,
    }),
  );
  return router;
}

export const handler = middy<HttpApiEvent, HttpApiResult>()
  // Anything thrown around the router (e.g. deps that cannot be created) gets the one error shape.
  .use(httpErrors(log))
  // API Gateway's access log has every request; this adds what only the handler knows, quietly.
  .use(
    lambdaLog<HttpApiEvent, HttpApiResult>({
      log,
      correlationId: (event) => event.requestContext?.requestId,
      describe: (event) => ({ method: event.requestContext?.http?.method, path: event.rawPath }),
      outcome: (result) => ({ status: result.statusCode }),
      level: (result) => (result.statusCode >= 500 ? 'warn' : 'debug'),
    }),
  )
  .handler((event) => api().handle(event));
