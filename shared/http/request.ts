import { parseDocument } from 'yaml';
import { PayloadTooLargeError, ValidationError } from '../errors.js';
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

/** Parses a JSON or YAML body; a syntax error is a 400 naming where (line and column for YAML). */
export function parseBody(text: string, mediaType: MediaType): unknown {
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
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ValidationError(
      doc.errors.map((error) => {
        const at = error.linePos?.[0];
        const where = at ? ` at line ${at.line}, column ${at.col}` : '';
        const text = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return { path: [], message: `body is not valid YAML${where}: ${text}` };
      }),
    );
  }
  return doc.toJS({ maxAliasCount: 100 });
}
