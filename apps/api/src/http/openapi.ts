import type { OpenAPIObject } from '@nestjs/swagger';

type Json = Record<string, unknown>;
type Operation = {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; schema?: Json }>;
  requestBody?: unknown;
  responses: Record<string, { description?: string; content?: Record<string, { schema?: Json; example?: unknown }> }>;
};

export const LEVEL_NAMES = ['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'SECRET'];

/** One line per operation, keyed by "METHOD path" (path without the /api/v1 prefix). */
const SUMMARIES: Record<string, string> = {
  'GET /health/live': 'Liveness: the process answers',
  'GET /health/ready': 'Readiness: PostgreSQL and the object store answer',
  'GET /keys/public': "The service's Ed25519 public key(s), to verify certificates and checkpoints",
  'GET /audit/events': 'Search or export audit events (json, csv, jsonl, pdf)',
  'GET /audit/verify': 'Verify the audit hash chain and its signed checkpoints',
  'GET /audit/checkpoints': 'List signed checkpoints of the audit chain',
  'POST /audit/checkpoints': 'Sign a checkpoint of the current chain head',
  'POST /documents': 'Upload a new document (first version)',
  'GET /documents': 'List documents the caller may see',
  'GET /documents/{id}': 'Document metadata (ETag names the current version)',
  'PATCH /documents/{id}': 'Change title, tags, classification, review date or series',
  'GET /documents/{id}/content': 'Download a version (PDFs are stamped with the label)',
  'POST /documents/{id}/versions': 'Upload a new version (If-Match required)',
  'GET /documents/{id}/versions': 'List the versions of a document',
  'POST /documents/{id}/versions/{n}/restore': 'Restore an old version as a new one',
  'GET /documents/{id}/access-history': 'Audit events of one document',
  'GET /reports/inventory': 'Information-asset inventory (json or csv)',
  'POST /auth/login': 'Log in: a bearer token for the API',
  'POST /auth/password': 'Change your own password',
  'POST /auth/logout': 'End this session',
  'GET /auth/me': 'Who the bearer token belongs to',
  'POST /users': 'Create a user (temporary password)',
  'GET /users': 'List users',
  'GET /users/{id}': 'One user',
  'PATCH /users/{id}': "Change a user's roles, clearance, departments or designations",
  'POST /users/{id}/deactivate': 'Deactivate a user and end their sessions',
  'GET /users/grants': 'Privilege grants waiting for (or decided by) a second administrator',
  'POST /users/grants/{grantId}/approve': "Approve another administrator's privilege grant",
  'POST /users/grants/{grantId}/reject': "Reject another administrator's privilege grant",
  'GET /reports/access-review': 'Who holds which privileges, and their last login',
  'POST /reports/access-review/signoffs': 'Sign off an access review',
  'POST /retention/series': 'Add a record series to the file plan',
  'GET /retention/series': 'The file plan',
  'PATCH /retention/series/{id}': 'Change a record series',
  'POST /retention/events': 'Record an event that starts event-based retention',
  'POST /holds': 'Place a legal hold on documents',
  'GET /holds': 'List legal holds',
  'PATCH /holds/{id}': 'Amend an active legal hold (name, reason, documents added or removed)',
  'POST /holds/{id}/release': 'Release a legal hold',
  'GET /disposition/due': 'Documents whose retention has ended and that no hold blocks, each with the open batch it is already in (openBatch)',
  'POST /disposition/batches': 'Propose a disposition batch (dry run in the answer)',
  'GET /disposition/batches': 'List disposition batches, newest first',
  'GET /disposition/batches/{id}': 'One disposition batch and what happened to each document',
  'POST /disposition/batches/{id}/approve': 'Approve a batch (a second records officer); a worker executes it',
  'POST /disposition/batches/{id}/cancel': 'Withdraw a proposed batch',
  'GET /disposition/batches/{id}/certificate': 'The signed deletion certificate (JSON or PDF)',
};

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details. `title` and `detail` are in Japanese when the request prefers ja (Accept-Language).',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', example: 'urn:kura:problem:not-found' },
    title: { type: 'string', example: 'Not Found' },
    status: { type: 'integer', example: 404 },
    detail: { type: 'string', example: 'The document does not exist.' },
    instance: { type: 'string', example: '/api/v1/documents/3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f' },
    requestId: { type: 'string', example: '2b7e1516-28ae-4d2a-a6d2-abf7158809cf' },
    errors: {
      type: 'array',
      description: 'validation: one entry per failing field',
      items: { type: 'object', properties: { field: { type: 'string' }, messages: { type: 'array', items: { type: 'string' } } } },
    },
  },
};

const PROBLEMS: Record<string, { description: string; type: string; title: string; detail: string }> = {
  '400': { description: 'Invalid input: each failing field is named', type: 'validation', title: 'Bad Request', detail: 'The request has invalid fields.' },
  '401': { description: 'No valid bearer token', type: 'unauthenticated', title: 'Unauthorized', detail: 'Authentication is required.' },
  '403': { description: 'The caller may not do this', type: 'forbidden', title: 'Forbidden', detail: 'You may not do this.' },
  '404': { description: 'No such resource, or one the caller may not see', type: 'not-found', title: 'Not Found', detail: 'The document does not exist.' },
  '409': { description: 'The resource is not in a state that allows this', type: 'conflict', title: 'Conflict', detail: 'The batch has no certificate yet: it has not finished executing; its progress shows how far it is.' },
  '412': { description: 'If-Match names an older version', type: 'precondition-failed', title: 'Precondition Failed', detail: 'The document has changed since you read it.' },
  '415': { description: 'The body is not of a media type this route reads', type: 'unsupported-media-type', title: 'Unsupported Media Type', detail: 'This route reads application/json; the request body is text/plain.' },
  '428': { description: 'If-Match is required', type: 'precondition-required', title: 'Precondition Required', detail: 'Send If-Match with the ETag of the version you are replacing.' },
  '429': { description: 'Too many requests: retry after Retry-After seconds', type: 'too-many-requests', title: 'Too Many Requests', detail: 'Too many attempts; try again later.' },
  '503': { description: 'PostgreSQL or the object store is unavailable: retry after Retry-After seconds', type: 'unavailable', title: 'Service Unavailable', detail: 'The service is temporarily unavailable.' },
};

function humanise(operationId = ''): string {
  const [controller, method = ''] = operationId.split('_');
  const words = method.replace(/([A-Z])/g, ' $1').toLowerCase().trim();
  return `${words.charAt(0).toUpperCase()}${words.slice(1)} (${controller.replace(/Controller$/, '').toLowerCase()})`;
}

function problem(code: string) {
  const p = PROBLEMS[code];
  return {
    description: p.description,
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        example: { type: `urn:kura:problem:${p.type}`, title: p.title, status: Number(code), detail: p.detail },
      },
    },
  };
}

function levelName(schema: Json | undefined): Json {
  const description = typeof schema?.description === 'string' ? schema.description : undefined;
  return { type: 'string', enum: LEVEL_NAMES, description: description ?? 'classification level name (requests may also give 0–3)' };
}

/**
 * Completes the generated document in one place (so controllers stay one-liners): summaries,
 * a schema for every success response, the problem+json answers each operation can give with
 * examples, `security: []` on public routes (those without @ApiBearerAuth), servers, licence,
 * opaque bearer tokens, classification as a level name.
 */
export function completeOpenApi(doc: OpenAPIObject, prefix: string): OpenAPIObject {
  doc.info.license = { name: 'UNLICENSED: proprietary', url: 'https://example.org/kura/licence' };
  doc.info.contact ??= { name: 'Kura operators' };
  doc.servers = [{ url: '/', description: 'this Kura instance' }];
  doc.security = [{ bearer: [] }];
  doc.components ??= {};
  doc.components.schemas ??= {};
  (doc.components.schemas as Json).Problem = PROBLEM_SCHEMA;
  const bearer = doc.components.securitySchemes?.bearer as Json | undefined;
  if (bearer) {
    bearer.bearerFormat = 'opaque';
    bearer.description = 'An opaque session token from POST /auth/login (not a JWT): it means nothing outside this service.';
  }
  for (const schema of Object.values(doc.components.schemas as Record<string, { properties?: Record<string, Json> }>)) {
    if (schema.properties?.classification) schema.properties.classification = levelName(schema.properties.classification);
  }
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item as Record<string, Operation>)) {
      if (!raw || typeof raw !== 'object' || !('responses' in raw)) continue;
      const op = raw;
      const key = `${method.toUpperCase()} ${path.startsWith(`/${prefix}`) ? path.slice(prefix.length + 1) : path}`;
      op.summary ??= SUMMARIES[key] ?? humanise(op.operationId);
      const isPublic = !op.security || op.security.length === 0;
      if (isPublic) op.security = [];
      for (const p of op.parameters ?? []) if (p.name === 'classification' && p.schema) p.schema = levelName(p.schema);
      for (const [code, response] of Object.entries(op.responses)) {
        if (!/^2/.test(code) || code === '204' || response.content) continue;
        response.content = { 'application/json': { schema: { type: 'object', additionalProperties: true } } };
      }
      const codes = new Set<string>(['503']);
      if (op.parameters?.length || op.requestBody) codes.add('400');
      if (op.requestBody) codes.add('415');
      if (!isPublic) codes.add('401').add('403');
      if (path.includes('{')) codes.add('404');
      if (op.parameters?.some((p) => p.name === 'If-Match')) codes.add('412').add('428');
      if (key === 'POST /auth/login') codes.add('401').add('429');
      // Statuses a route declares itself (@ApiResponse) get the problem+json body too.
      for (const code of Object.keys(op.responses)) if (PROBLEMS[code] && !op.responses[code].content) codes.add(code);
      for (const code of [...codes].sort()) op.responses[code] = op.responses[code]?.content ? op.responses[code] : { ...problem(code), description: op.responses[code]?.description ?? PROBLEMS[code].description };
    }
  }
  return doc;
}
