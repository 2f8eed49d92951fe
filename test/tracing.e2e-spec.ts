import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { TestApp } from './support/app';
import { ADMIN, createUser, login } from './support/auth';
import { createDatabase, testInfra, uniqueName } from './support/infra';
import { call, ManualUpload, until } from './faults/support/client';
import { ApiChild, kill9, startApi, tempKeysDir } from './faults/support/processes';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpSpan {
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: OtlpValue }> }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

const SERVER = 2;
const CLIENT = 3;
const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue !== undefined ? Number(v.intValue) : undefined);
};

/** A tiny OTLP/HTTP (JSON) trace receiver. */
async function startReceiver(): Promise<{ url: string; exports: OtlpExport[]; bodies: string[]; close(): Promise<void> }> {
  const exports: OtlpExport[] = [];
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      if (req.url === '/v1/traces' && /json/.test(req.headers['content-type'] ?? '')) {
        bodies.push(body);
        exports.push(JSON.parse(body) as OtlpExport);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Issue 13 (optional): OpenTelemetry traces by configuration, none when unconfigured. */
describe('OpenTelemetry tracing', () => {
  const s3 = { ...testInfra().s3, bucket: uniqueName('kura') };
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let api: ApiChild;

  beforeAll(async () => {
    receiver = await startReceiver();
    api = await startApi({
      databaseUrl: await createDatabase(),
      s3,
      keysDir: await tempKeysDir(),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
  });
  afterAll(async () => {
    await kill9(api);
    await receiver.close();
  });

  it('exports spans of the HTTP request, its PostgreSQL statements and its object store calls, with no token, password, query string or content', async () => {
    const server = api.url as unknown as TestApp['http'];
    const admin = await login(server, ADMIN.username, ADMIN.password);
    const clerk = await createUser(server, admin, { roles: ['staff'] });
    const marker = `content-marker-${randomBytes(8).toString('hex')}`;
    const up = await new ManualUpload(api.url, '/api/v1/documents', clerk.token)
      .fields([['title', 'Traced'], ['kind', 'record'], ['classification', 'INTERNAL'], ['department', 'general']])
      .fileHeader('t.txt')
      .send(marker.repeat(100))
      .endFile()
      .finish();
    expect(up.status).toBe(201);
    const search = `searched-${randomBytes(4).toString('hex')}`;
    expect((await call(api.url, 'GET', `/api/v1/documents?q=${search}`, { token: clerk.token })).status).toBe(200);
    const down = await call(api.url, 'GET', `/api/v1/documents/${String(up.json().id)}/content`, { token: clerk.token });
    expect(down.body.toString('utf8')).toBe(marker.repeat(100));

    const spans = () => receiver.exports.flatMap((e) => e.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const upload = () => spans().find((s) => s.kind === SERVER && attr(s, 'http.request.method') === 'POST' && attr(s, 'url.path') === '/api/v1/documents');
    const store = () => spans().filter((s) => s.kind === CLIENT && attr(s, 'server.port') === s3.port);
    const database = () => spans().filter((s) => /postgres/.test(String(attr(s, 'db.system') ?? attr(s, 'db.system.name') ?? '')));
    const list = () => spans().find((s) => s.kind === SERVER && attr(s, 'http.request.method') === 'GET' && attr(s, 'url.path') === '/api/v1/documents');
    await until(() => Boolean(upload() && list() && store().length > 0 && database().length > 0), 20_000, 'HTTP, object store and PostgreSQL spans');

    expect(attr(upload()!, 'http.response.status_code')).toBe(201);
    expect(list()!.attributes.map((a) => a.key)).not.toContain('url.query');
    const resource = receiver.exports[0].resourceSpans[0].resource.attributes;
    expect(resource).toContainEqual({ key: 'service.name', value: { stringValue: 'kura-api' } });

    const everything = receiver.bodies.join('\n');
    for (const secret of [clerk.token, admin, clerk.password, ADMIN.password, marker, search, 'Bearer', 'S3RVER']) expect(everything).not.toContain(secret);
  });

  it('loads nothing of OpenTelemetry when no endpoint is configured', () => {
    const root = path.resolve(__dirname, '..');
    // The no-op @opentelemetry/api is always there (prom-client loads it); the SDK, exporter and instrumentations are not.
    const script = "require('./apps/api/src/tracing'); process.stdout.write(String(Object.keys(require.cache).filter((k) => k.includes('@opentelemetry/') && !k.includes('@opentelemetry/api/')).length)); process.exit(0);";
    const loaded = (env: Record<string, string>) =>
      Number(execFileSync(process.execPath, ['-r', path.join(root, 'test/support/swc-register.cjs'), '-e', script], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' }));
    expect(loaded({})).toBe(0);
    expect(loaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).toBeGreaterThan(0);
  });
});
