/** asl-validator (a dev dependency, CommonJS without types) behind a typed function. */
import { createRequire } from 'node:module';
import type { AslDefinition } from '../shared/journeys/asl.js';

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

/** Every problem asl-validator finds in a definition; empty when it is valid. */
export function aslProblems(asl: AslDefinition): string[] {
  // asl-validator annotates the definition it checks (QueryLanguage on every state): give it a copy.
  const result = aslValidator(structuredClone(asl), { checkPaths: true, checkArn: true });
  return result.isValid ? [] : result.errorsText('\n').split('\n').filter(Boolean);
}
