import type { DerivedCatalog } from '../../shared/derived/catalog.js';
import { NotImplementedError, ValidationError } from '../../shared/errors.js';
import type { Router } from '../../shared/http/router.js';

/** Computed traits, lead scores, churn model, lifecycle stages (shared/derived). */
export interface DerivedApi {
  catalog: DerivedCatalog;
  /** `GET /lifecycle`: counts per stage now and flows per day. */
  lifecycleReport?(query: { days?: number }): Promise<unknown>;
}

export function derivedRoutes(router: Router, api: DerivedApi | undefined): void {
  const need = (): DerivedApi => {
    if (!api)
      throw new NotImplementedError('computed traits and scores are not available in this deployment');
    return api;
  };

  router.on('GET', '/traits', 'marketer', async () => ({
    body: { traits: await need().catalog.listTraits() },
  }));
  router.on('GET', '/traits/{id}', 'marketer', async (request) => ({
    body: await need().catalog.getTrait(request.params.id!),
  }));
  router.on('PUT', '/traits/{id}', 'marketer', async (request) => {
    const { trait, created } = await need().catalog.putTrait(request.params.id!, request.body());
    return { status: created ? 201 : 200, body: trait };
  });
  router.on('DELETE', '/traits/{id}', 'marketer', async (request) => {
    await need().catalog.deleteTrait(request.params.id!);
    return { body: { id: request.params.id, deleted: true } };
  });

  router.on('GET', '/scores', 'marketer', async () => ({
    body: { scores: await need().catalog.listScores() },
  }));
  router.on('GET', '/scores/{id}', 'marketer', async (request) => ({
    body: await need().catalog.getScore(request.params.id!),
  }));
  router.on('PUT', '/scores/{id}', 'marketer', async (request) => {
    const { score, created } = await need().catalog.putScore(request.params.id!, request.body());
    return { status: created ? 201 : 200, body: score };
  });
  router.on('DELETE', '/scores/{id}', 'marketer', async (request) => {
    await need().catalog.deleteScore(request.params.id!);
    return { body: { id: request.params.id, deleted: true } };
  });
  router.on('GET', '/lifecycle', 'marketer', async (request) => {
    const { catalog, lifecycleReport } = need();
    const days = request.query.days === undefined ? undefined : Number(request.query.days);
    if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 366))
      throw new ValidationError([{ path: ['days'], message: 'days must be an integer from 1 to 366' }]);
    const report = lifecycleReport ? await lifecycleReport({ ...(days !== undefined && { days }) }) : {};
    return { body: { ...(await catalog.getLifecycle()), ...(report as object) } };
  });
  router.on('PUT', '/lifecycle', 'marketer', async (request) => ({
    body: await need().catalog.putLifecycle(request.body()),
  }));
}
