/** docs/api.md from the OpenAPI document: the product's own API reference, kept true by test/openapi.e2e-spec.ts. */
interface Op {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  responses: Record<string, { description?: string }>;
}

export function openApiMarkdown(doc: { info: { title: string; version: string }; paths: Record<string, Record<string, Op>> }): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? 'other';
      const params = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      const codes = Object.keys(op.responses).sort();
      const row = `| \`${method.toUpperCase()} ${path}${params.length ? `?${params.join('&')}` : ''}\` | ${op.summary ?? ''} | ${op.security?.length === 0 ? 'public' : 'bearer'} | ${codes.join(', ')} |`;
      byTag.set(tag, [...(byTag.get(tag) ?? []), row]);
    }
  }
  const sections = [...byTag.entries()].map(([tag, rows]) => [`## ${tag}`, '', '| operation | what | auth | statuses |', '|---|---|---|---|', ...rows, ''].join('\n'));
  return [
    '# API reference',
    '',
    '<!-- Generated from the OpenAPI document by test/openapi.e2e-spec.ts (UPDATE_DOCS=1 rewrites it). -->',
    '',
    `${doc.info.title} API version ${doc.info.version}. JSON over HTTP under \`/api/v1\`; the full OpenAPI document with`,
    'schemas and examples is served by every instance at `/api/docs` (JSON: `/api/docs-json`).',
    '',
    '- **Authentication**: `POST /api/v1/auth/login` returns an opaque bearer token (not a JWT); send it as',
    '  `Authorization: Bearer <token>`. Operations marked *public* need none.',
    '- **Errors** are `application/problem+json` (RFC 9457): `type`, `title`, `status`, `detail`, `instance`,',
    '  `requestId`, and for validation one entry per failing field in `errors`. `title` and `detail` are in',
    '  Japanese when the request prefers it (`Accept-Language: ja`). A wrong method answers 405 with `Allow`;',
    '  a body of the wrong media type 415; rate limits 429 and unavailable stores 503 with `Retry-After`.',
    '- **Classification and clearance** are level names: `PUBLIC`, `INTERNAL`, `CONFIDENTIAL`, `SECRET`',
    '  (requests may also give 0–3).',
    '- **CSV exports** take `bom=true|false`; without it a request that prefers Japanese gets a UTF-8 byte',
    '  order mark (Excel in Japanese locales).',
    '- **Concurrency**: `GET /documents/{id}` returns an `ETag`; new versions and restores need `If-Match`.',
    '',
    ...sections,
  ].join('\n');
}
