/**
 * Computed traits and lead scores as code: `traits/<id>.trait.yaml` and `scores/<id>.score.yaml`
 * (the body of `PUT /traits/{id}` / `PUT /scores/{id}`; the id is the file's name), validated by the
 * same zod schemas as the API, with JSON Schemas for editors (`trait.schema.json`, `score.schema.json`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import type * as z from 'zod';
import { parseDefinition } from '../shared/derived/catalog.js';
import { lifecycleSchema, scoreDefinitionSchema, traitDefinitionSchema } from '../shared/derived/schema.js';
import { formatPath, ValidationError } from '../shared/errors.js';
import { editorJsonSchema } from '../shared/json-schema.js';

export type DerivedKind = 'trait' | 'score';
const schemas = { trait: traitDefinitionSchema, score: scoreDefinitionSchema } as const;
const folders = { trait: 'traits', score: 'scores' } as const;

export interface DerivedFile {
  kind: DerivedKind;
  id: string;
  file: string;
  /** The body to PUT (as written, without defaults). */
  body: Record<string, unknown>;
}

export function derivedFiles(dir: string): DerivedFile[] {
  const out: DerivedFile[] = [];
  for (const kind of ['trait', 'score'] as const) {
    const folder = join(dir, folders[kind]);
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder).sort()) {
      if (!name.endsWith(`.${kind}.yaml`)) continue;
      const file = join(folder, name);
      const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
      const body = (doc.errors.length ? undefined : doc.toJS({ maxAliasCount: 100 })) as Record<
        string,
        unknown
      >;
      out.push({ kind, id: basename(name, `.${kind}.yaml`), file, body });
    }
  }
  return out;
}

/** Every problem of the files, as `npm run validate` prints them. */
export function derivedProblems(dir: string): { file: string; path: string; message: string }[] {
  const problems: { file: string; path: string; message: string }[] = [];
  for (const { kind, id, file, body } of derivedFiles(dir)) {
    const name = relative(process.cwd(), file);
    if (body === undefined) {
      problems.push({ file: name, path: '(root)', message: 'is not valid YAML' });
      continue;
    }
    if (body.id !== undefined && body.id !== id)
      problems.push({ file: name, path: 'id', message: `must be '${id}', the file's name` });
    try {
      parseDefinition(schemas[kind], { ...body, id });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues)
        problems.push({ file: name, path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}

function jsonSchema(schema: z.ZodType, title: string): string {
  return `${JSON.stringify(editorJsonSchema(schema, title), null, 2)}\n`;
}

/** The generated JSON Schemas and their contents. */
export function derivedSchemaFiles(dir: string): Map<string, string> {
  return new Map([
    [join(dir, 'trait.schema.json'), jsonSchema(traitDefinitionSchema, 'Cairn computed trait')],
    [join(dir, 'score.schema.json'), jsonSchema(scoreDefinitionSchema, 'Cairn lead score')],
    [join(dir, 'lifecycle.schema.json'), jsonSchema(lifecycleSchema, 'Cairn lifecycle stages')],
  ]);
}
