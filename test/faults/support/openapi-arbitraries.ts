import fc from 'fast-check';

/** The parts of an OpenAPI 3 document the fuzzer reads. */
export interface OpenApiSchema {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: OpenApiSchema;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  oneOf?: OpenApiSchema[];
  anyOf?: OpenApiSchema[];
  allOf?: OpenApiSchema[];
  minimum?: number;
  maximum?: number;
  example?: unknown;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: OpenApiSchema;
}

export interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content: Record<string, { schema?: OpenApiSchema }> };
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

/** Strings that have broken parsers before: control characters, bidi overrides, huge, unicode, injection. */
export const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '\r\n', '\u202Eexe.pdf', '../../etc/passwd', '%00', '${jndi:x}', "' OR 1=1 --", '=cmd|/c calc', '🙂'.repeat(50), 'x'.repeat(20_000), '-1', '1e309', 'NaN', 'null', '[]', '{}'),
);

const anyJson = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), nastyString, fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 }));

/**
 * Values drawn from a schema, mutated about one time in four (a wrong type, a nasty
 * string, null): schema-aware input that still reaches the validators' edges.
 */
export function arbitraryFor(doc: OpenApiDocument, schema: OpenApiSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: valid(doc, schema, depth) }, { weight: 1, arbitrary: anyJson });
}

function resolve(doc: OpenApiDocument, schema: OpenApiSchema): OpenApiSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.split('/').pop()!;
  return doc.components?.schemas?.[name] ?? {};
}

function valid(doc: OpenApiDocument, raw: OpenApiSchema | undefined, depth: number): fc.Arbitrary<unknown> {
  if (!raw || depth > 4) return anyJson;
  const schema = resolve(doc, raw);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) return fc.oneof(...alternatives.map((s) => valid(doc, s, depth + 1)));
  if (schema.allOf) return valid(doc, Object.assign({}, ...schema.allOf.map((s) => resolve(doc, s))), depth + 1);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string':
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'date-time' || schema.format === 'date') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
      return fc.oneof(fc.string({ maxLength: 30 }), nastyString, ...(schema.example !== undefined ? [fc.constant(schema.example)] : []));
    case 'integer':
      return fc.oneof(fc.integer({ min: schema.minimum ?? -5, max: schema.maximum ?? 1000 }), fc.integer());
    case 'number':
      return fc.oneof(fc.integer({ min: -2, max: 200 }), fc.double());
    case 'boolean':
      return fc.oneof(fc.boolean(), fc.constantFrom('true', 'false', 'yes', '1'));
    case 'array':
      return fc.array(arbitraryFor(doc, schema.items, depth + 1), { maxLength: 4 });
    case 'object':
    default: {
      if (!schema.properties) return anyJson;
      const props = Object.fromEntries(Object.entries(schema.properties).map(([k, s]) => [k, arbitraryFor(doc, s, depth + 1)]));
      const record = fc.record(props, { requiredKeys: [] });
      // Unknown fields must be refused with 400, never accepted or crash.
      return fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: fc.tuple(record, fc.string({ minLength: 1, maxLength: 10 }), anyJson).map(([r, k, v]) => ({ ...r, [k]: v })) });
    }
  }
}

/** A value as it travels in a query string or path segment. */
export function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
