import { compileJourney } from '../journeys/compile.js';
import { validateJourney } from '../journeys/validate.js';
import type { JourneyLanguage } from './catalog.js';

/** The catalog's journey language: shared/journeys' validator and compiler. */
export const journeyLanguage: JourneyLanguage = {
  validate: (input, { templateIds, segmentIds, templateChannels, topicIds }) =>
    validateJourney(input, {
      templateExists: (id) => templateIds.has(id),
      ...(segmentIds && { segmentExists: (id: string) => segmentIds.has(id) }),
      ...(templateChannels && { templateChannel: (id: string) => templateChannels.get(id) }),
      ...(topicIds && { topicExists: (topic: string) => topicIds.has(topic) }),
    }),
  compile: (definition, { version }) => compileJourney(definition, { version }),
};
