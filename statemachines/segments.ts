/**
 * Segments as code: `segments/<id>.segment.yaml` (the body of `PUT /segments/{id}`; the id is the
 * file's name), validated by the same zod schema and checks as the API (unknown segments, cycles),
 * with a JSON Schema for editors (`segment.schema.json`). `npm start` and `cdk deploy` define them
 * before the journeys, dependencies first.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseDocument } from 'yaml';
import { formatPath, ValidationError } from '../shared/errors.js';
import { activeSegment, orderSegments } from '../shared/segments/engine.js';
import { type Segment, segmentJsonSchema, segmentSchema } from '../shared/segments/schema.js';
import { validateSegment } from '../shared/segments/service.js';

const suffix = '.segment.yaml';

export interface SegmentFile {
  id: string;
  file: string;
  /** The document as written; undefined when it is not valid YAML. */
  body: Record<string, unknown> | undefined;
}

export function segmentFiles(dir: string): SegmentFile[] {
  const folder = join(dir, 'segments');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => name.endsWith(suffix))
    .sort()
    .map((name) => {
      const file = join(folder, name);
      const doc = parseDocument(readFileSync(file, 'utf8'), { uniqueKeys: true });
      const body = doc.errors.length ? undefined : (doc.toJS() as Record<string, unknown>);
      return { id: basename(name, suffix), file, body };
    });
}

/**
 * Every problem of the folder's segments at once, each with its file and path: the schema, the id
 * (the file's name), segments read that no file defines, and cycles.
 */
export function segmentProblems(dir: string): { file: string; path: string; message: string }[] {
  const files = segmentFiles(dir);
  // Each segment is checked against the others that parse on their own (references and cycles).
  const parsed = files.flatMap(({ id, body }) => {
    const result = segmentSchema.safeParse({ ...body, id });
    return result.success ? [result.data] : [];
  });
  const problems: { file: string; path: string; message: string }[] = [];
  for (const { id, file, body } of files) {
    const name = relative(process.cwd(), file);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      problems.push({ file: name, path: '(root)', message: 'is not a YAML mapping' });
      continue;
    }
    if (body.id !== undefined && body.id !== id)
      problems.push({ file: name, path: 'id', message: `must be '${id}', the file's name` });
    try {
      validateSegment({ ...body, id }, id, parsed);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const issue of error.issues)
        problems.push({ file: name, path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}

/** The folder's segments, dependencies first (what a deploy defines, in this order); throws on problems. */
export function segmentsInOrder(dir: string): Segment[] {
  const problems = segmentProblems(dir);
  if (problems.length > 0)
    throw new Error(problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join('\n'));
  const segments = segmentFiles(dir).map(({ id, body }) => segmentSchema.parse({ ...body, id }));
  return orderSegments(segments.map(activeSegment)).map((segment) => segment.definition);
}

/** The ids the folder defines (journeys in it may trigger and branch on them). */
export function segmentIdsOf(dir: string): Set<string> {
  return new Set(segmentFiles(dir).map((file) => file.id));
}

/** The generated JSON Schema for editors. */
export function segmentSchemaFile(dir: string): [string, string] {
  return [join(dir, 'segment.schema.json'), `${JSON.stringify(segmentJsonSchema(), null, 2)}\n`];
}
