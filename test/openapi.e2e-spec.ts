import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { startTestApp, TestApp } from './support/app';
import { openApiMarkdown } from './support/openapi-markdown';

jest.setTimeout(180_000);
const ROOT = path.resolve(__dirname, '..');

interface Operation {
  summary?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema?: unknown; example?: unknown; examples?: unknown }> }>;
}
type OpenApi = {
  info: { license?: { name: string } };
  servers?: unknown[];
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, { bearerFormat?: string }>; schemas: Record<string, { properties?: Record<string, { enum?: unknown[]; type?: string }> }> };
};

/** The OpenAPI document at /api/docs-json is complete and passes `redocly lint` with no errors and no warnings. */
describe('OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenApi;
  let dir: string;
  beforeAll(async () => {
    t = await startTestApp();
    doc = (await request(t.http).get('/api/docs-json').expect(200)).body as OpenApi;
    dir = await mkdtemp(path.join(os.tmpdir(), 'kura-openapi-'));
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const operations = () => Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => ({ id: `${method.toUpperCase()} ${p}`, op })));

  it('describes every operation: summary, a response schema, problem+json errors, examples', () => {
    for (const { id, op } of operations()) {
      expect([id, typeof op.summary]).toEqual([id, 'string']);
      const success = Object.entries(op.responses).filter(([code]) => /^2/.test(code));
      expect([id, success.length > 0]).toEqual([id, true]);
      for (const [code, r] of success) if (code !== '204') expect([id, code, Object.values(r.content ?? {}).every((c) => c.schema)]).toEqual([id, code, true]);
      const errors = Object.entries(op.responses).filter(([code]) => /^[45]/.test(code));
      if (!id.includes('/health/')) expect([id, errors.some(([code]) => /^4/.test(code))]).toEqual([id, true]);
      for (const [code, r] of errors) {
        expect([id, code, Object.keys(r.content ?? {})]).toEqual([id, code, ['application/problem+json']]);
        expect([id, code, r.content!['application/problem+json'].example]).toEqual([id, code, expect.objectContaining({ status: Number(code) })]);
      }
    }
    expect(doc.info.license?.name).toBeDefined();
    expect(doc.servers?.length).toBeGreaterThan(0);
    expect(doc.components.securitySchemes.bearer.bearerFormat).not.toBe('JWT');
  });

  it('marks public routes public and types classification as a level name', () => {
    const login = doc.paths['/api/v1/auth/login'].post;
    expect(login.security).toEqual([]);
    expect(doc.paths['/api/v1/health/live'].get.security).toEqual([]);
    expect(doc.paths['/api/v1/documents'].get.security).toEqual([{ bearer: [] }]);
    const classification = Object.values(doc.components.schemas).flatMap((s) => (s.properties?.classification ? [s.properties.classification] : []));
    expect(classification.length).toBeGreaterThan(0);
    for (const c of classification) expect(c.enum).toEqual(['PUBLIC', 'INTERNAL', 'CONFIDENTIAL', 'SECRET']);
  });

  it('passes redocly lint with 0 errors and 0 warnings', async () => {
    const file = path.join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(doc, null, 2));
    const run = await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', file, '--config', path.join(ROOT, 'redocly.yaml'), '--format', 'json'], { cwd: ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, maxBuffer: 64 * 1024 * 1024 }).catch(
      (err: { stdout: string; stderr: string }) => err,
    );
    const result = JSON.parse(run.stdout) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }> };
    const summary = result.problems.map((p) => `${p.ruleId}: ${p.message} @ ${p.location[0]?.pointer}`);
    expect({ totals: result.totals, problems: summary.slice(0, 40) }).toEqual({ totals: { errors: 0, warnings: 0, ignored: 0 }, problems: [] });
  });

  it('docs/api.md is the reference generated from this document', async () => {
    const file = path.join(ROOT, 'docs/api.md');
    const expected = openApiMarkdown(doc as unknown as Parameters<typeof openApiMarkdown>[0]) + '\n';
    if (process.env.UPDATE_DOCS === '1') await writeFile(file, expected);
    expect(await readFile(file, 'utf8')).toBe(expected);
  });
});
