/**
 * The journeys-as-code folder: example journeys (`*.journey.yaml`), their templates
 * (`templates/<id>.template.yaml`), the segments they use (`segments/<id>.segment.yaml`, see
 * segments.ts), and the generated files (`<id>.asl.json`, `journey.schema.json`)
 * that `npm run compile` writes and a test keeps fresh.
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { formatPath, ValidationError } from '../shared/errors.js';
import { compileJourney } from '../shared/journeys/compile.js';
import { type Journey, journeyJsonSchema } from '../shared/journeys/schema.js';
import { journeyIssues, parseJourneyDocument, validateJourney } from '../shared/journeys/validate.js';
import { isObject } from '../shared/json.js';
import { type TemplateWithId, validateTemplate } from '../shared/templates/render.js';
import { aslProblems } from './asl-check.js';
import { derivedProblems, derivedSchemaFiles } from './derived.js';
import { segmentIdsOf, segmentProblems, segmentSchemaFile } from './segments.js';

export const statemachinesDir = dirname(fileURLToPath(import.meta.url));
export const templatesDir = join(statemachinesDir, 'templates');
export const schemaFile = join(statemachinesDir, 'journey.schema.json');

export interface Problem {
  file: string;
  path: string;
  message: string;
}

export function journeyFiles(dir = statemachinesDir): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.journey.yaml'))
    .sort()
    .map((name) => join(dir, name));
}

export function templateExists(id: string, dir = templatesDir): boolean {
  return existsSync(join(dir, `${id}.template.yaml`));
}

export function templateFiles(dir = templatesDir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.template.yaml'))
    .sort()
    .map((name) => join(dir, name));
}

export function loadTemplate(file: string): TemplateWithId {
  const body: unknown = parse(readFileSync(file, 'utf8'));
  if (!isObject(body))
    throw new ValidationError([{ path: [], message: 'must be a mapping with subject, html and/or text' }]);
  // The same check the API and the deploy run on save: fields, and that the Liquid parses.
  validateTemplate(body);
  return { id: basename(file, '.template.yaml'), ...body };
}

function problemsOf(file: string, error: unknown): Problem[] {
  const name = relative(process.cwd(), file);
  if (error instanceof ValidationError) {
    return error.issues.map((issue) => ({
      file: name,
      path: formatPath(issue.path),
      message: issue.message,
    }));
  }
  return [{ file: name, path: '(root)', message: (error as Error).message }];
}

/** Loads and validates one journey file; problems carry the file and the path inside it. */
export function loadJourneyFile(file: string): { journey?: Journey; problems: Problem[] } {
  let document: unknown;
  try {
    document = parseJourneyDocument(readFileSync(file, 'utf8'), 'application/yaml');
  } catch (error) {
    return { problems: problemsOf(file, error) };
  }
  const segmentIds = segmentIdsOf(dirname(file));
  const issues = journeyIssues(document, {
    templateExists: (id) => templateExists(id, join(dirname(file), 'templates')),
    segmentExists: (id) => segmentIds.has(id),
  });
  const expectedId = basename(file, '.journey.yaml');
  const id = (document as { id?: unknown } | null)?.id;
  if (typeof id === 'string' && id !== expectedId) {
    issues.push({ path: ['id'], message: `must be '${expectedId}', the file's name` });
  }
  if (issues.length > 0) return { problems: problemsOf(file, new ValidationError(issues)) };
  // No issues, so this parse succeeds; it applies the defaults.
  return { journey: validateJourney(document), problems: [] };
}

/** Every problem in the folder: journeys, their templates, and the compiled ASL as asl-validator sees it. */
export function validateAll(dir = statemachinesDir): Problem[] {
  const problems: Problem[] = [...derivedProblems(dir), ...segmentProblems(dir)];
  for (const file of templateFiles(join(dir, 'templates'))) {
    try {
      loadTemplate(file);
    } catch (error) {
      problems.push(...problemsOf(file, error));
    }
  }
  for (const file of journeyFiles(dir)) {
    const { journey, problems: found } = loadJourneyFile(file);
    problems.push(...found);
    if (journey) {
      for (const message of aslProblems(compileJourney(journey))) {
        problems.push({ file: relative(process.cwd(), file), path: '(compiled ASL)', message });
      }
    }
  }
  return problems;
}

/** The generated files and their exact contents (deterministic): what `npm run compile` writes. */
export function generatedFiles(dir = statemachinesDir): Map<string, string> {
  const files = new Map<string, string>();
  for (const file of journeyFiles(dir)) {
    const { journey, problems } = loadJourneyFile(file);
    if (!journey) throw new Error(problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n'));
    files.set(join(dir, `${journey.id}.asl.json`), `${JSON.stringify(compileJourney(journey), null, 2)}\n`);
  }
  files.set(join(dir, 'journey.schema.json'), `${JSON.stringify(journeyJsonSchema(), null, 2)}\n`);
  for (const [file, content] of derivedSchemaFiles(dir)) files.set(file, content);
  files.set(...segmentSchemaFile(dir));
  return files;
}
