import { compileJourney } from '../journeys/compile.js';
import { validateJourney } from '../journeys/validate.js';
import type { JourneyLanguage } from './catalog.js';

/** The catalog's journey language: shared/journeys' validator and compiler. */
export const journeyLanguage: JourneyLanguage = {
  validate: (input, { templateIds, segmentIds }) =>
    validateJourney(input, {
      templateExists: (id) => templateIds.has(id),
      ...(segmentIds && { segmentExists: (id: string) => segmentIds.has(id) }),
    }),
  compile: (definition, { version }) => compileJourney(definition, { version }),
};
