import type { JourneyLanguage } from '../../shared/catalog/catalog.js';
import { NotImplementedError, ValidationError } from '../../shared/errors.js';

/** The journey language from shared/journeys (validation and compilation). */
export const journeyLanguage: JourneyLanguage = {
  validate(input) {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw new ValidationError([{ path: [], message: 'journey definition must be an object' }]);
    }
    return input as Record<string, unknown>;
  },
  compile() {
    throw new NotImplementedError('journey compilation is not available yet');
  },
};
