import { parseDocument } from 'yaml';
import { PayloadTooLargeError, ValidationError } from '../errors.js';
import { jsonShapeIssues } from '../json-shape.js';
import type { HttpApiEvent } from './event.js';
import { UnsupportedMediaTypeError } from './respond.js';

export type MediaType = 'json' | 'yaml';

/** The body's media type from `content-type`; JSON when absent (curl, Segment SDKs). */
export function mediaTypeOf(contentType: string | undefined): MediaType {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === 'application/json' || type.endsWith('+json') || type === 'text/plain')
    return 'json';
  if (
    type === 'application/yaml' ||
    type === 'application/x-yaml' ||
    type === 'text/yaml' ||
    type === 'text/x-yaml'
  ) {
    return 'yaml';
  }
  throw new UnsupportedMediaTypeError(
    `unsupported content-type ${type}; send application/json or application/yaml`,
  );
}

/** The body as text, base64-decoded when API Gateway encoded it; 413 beyond `maxBytes`. */
export function bodyText(event: HttpApiEvent, maxBytes: number): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.byteLength > maxBytes) {
    throw new PayloadTooLargeError(`request body is ${bytes.byteLength} bytes; the limit is ${maxBytes}`);
  }
  return event.isBase64Encoded ? bytes.toString('utf8') : raw;
}

/** How deep any request body may nest: far beyond a journey or a Segment batch, far below the stack. */
export const maxBodyDepth = 64;
/** YAML aliases a body may expand: a few are handy, many are an expansion ("billion laughs") bomb. */
export const maxYamlAliases = 100;

/**
 * Parses a JSON or YAML body; a syntax error is a 400 naming where (line and column for YAML). So
 * is a body nested deeper than `maxBodyDepth`, holding a lone UTF-16 surrogate, or expanding too
 * many YAML aliases: everything after parsing may recurse over the value safely.
 */
export function parseBody(text: string, mediaType: MediaType): unknown {
  const value = parseText(text, mediaType);
  const issues = jsonShapeIssues(value, { maxDepth: maxBodyDepth });
  if (issues.length > 0) {
    throw new ValidationError(issues.map((issue) => ({ ...issue, message: `body ${issue.message}` })));
  }
  return value;
}

function parseText(text: string, mediaType: MediaType): unknown {
  if (text.trim() === '') return undefined;
  if (mediaType === 'json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ValidationError([
        { path: [], message: `body is not valid JSON (${(error as Error).message})` },
      ]);
    }
  }
  try {
    return parseYaml(text);
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // The parser recurses: a document nested tens of thousands deep overflows its stack.
    if (error instanceof RangeError) {
      throw new ValidationError([{ path: [], message: `body nests deeper than ${maxBodyDepth} levels` }]);
    }
    throw error;
  }
}

function parseYaml(text: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ValidationError(
      doc.errors.map((error) => {
        const at = error.linePos?.[0];
        const where = at ? ` at line ${at.line}, column ${at.col}` : '';
        const text = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        if (/call stack/i.test(text))
          return { path: [], message: `body nests deeper than ${maxBodyDepth} levels` };
        return { path: [], message: `body is not valid YAML${where}: ${text}` };
      }),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: maxYamlAliases });
  } catch (error) {
    // yaml throws a ReferenceError when aliases expand beyond maxAliasCount.
    if (error instanceof ReferenceError && /alias/i.test(error.message)) {
      throw new ValidationError([
        {
          path: [],
          message: `body is not accepted YAML: its aliases expand too much (more than ${maxYamlAliases} per node)`,
        },
      ]);
    }
    throw error;
  }
}
