import * as z from 'zod';

/**
 * The JSON Schema of a format Cairn reads (journeys, segments, derived-trait definitions), for
 * editors: the input side of its zod schema, with `$schema` first and then `title`.
 */
export function editorJsonSchema(schema: z.ZodType, title: string): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { $schema, title, ...rest };
}
