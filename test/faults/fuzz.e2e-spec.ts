import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import fc from 'fast-check';
import request from 'supertest';
import { AuditVerifier } from '@kura/audit';
import { startTestApp, TestApp } from '../support/app';
import { createUser, loginAdmin } from '../support/auth';
import { Answer, call, ManualUpload } from './support/client';
import { arbitraryFor, asText, nastyString, OpenApiDocument, OpenApiOperation } from './support/openapi-arbitraries';

const RUNS = 1_000;
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);
/** Password hashing makes these slow; they are fuzzed, just less often. */
const SLOW = /\/auth\/(login|password)$|\/users$/;
/** Would end the fuzzer's own sessions. */
const SKIP = /\/auth\/logout$/;

interface Spec {
  method: string;
  path: string;
  query: string;
  token: string | undefined;
  headers: Record<string, string>;
  body?: Buffer;
}

interface Finding {
  spec: string;
  status: number;
  contentType: string | undefined;
}

function problemLike(res: Answer): boolean {
  if (res.status < 400) return true;
  if (!/^application\/problem\+json/.test(res.headers['content-type'] ?? '')) return false;
  const p = res.json();
  return typeof p.type === 'string' && typeof p.title === 'string' && p.status === res.status && typeof p.detail === 'string';
}

/** A raw HTTP exchange: for bytes http.request refuses to send (bad framing, control characters). */
function raw(port: number, bytes: Buffer): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    const parts: Buffer[] = [];
    socket.on('data', (c: Buffer) => parts.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(parts).toString('latin1');
      const [head, body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body });
    });
  });
}

/**
 * Issue 10 fuzz pass: requests generated from the OpenAPI document, plus the upload attack
 * corpus. No 5xx, every error answered as problem+json, and the service still ready.
 */
describe('fuzzing the API', () => {
  let t: TestApp;
  let base: string;
  let port: number;
  let tokens: Array<string | undefined>;
  let clerk: string;
  let documentId: string;
  let openapi: OpenApiDocument;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as { port: number }).port;
    base = `http://127.0.0.1:${port}`;
    const admin = await loginAdmin(t.http);
    clerk = (await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['general'] })).token;
    const officer = (await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET' })).token;
    const auditor = (await createUser(t.http, admin, { roles: ['auditor'] })).token;
    tokens = [admin, clerk, officer, auditor, undefined, 'not-a-token'];
    const created = await new ManualUpload(base, '/api/v1/documents', clerk)
      .fields([['title', 'Fuzz target'], ['kind', 'policy'], ['classification', 'INTERNAL'], ['department', 'general']])
      .fileHeader('f.txt')
      .send('hello')
      .endFile()
      .finish();
    expect(created.status).toBe(201);
    documentId = String(created.json().id);
    openapi = (await request(t.http).get('/api/docs-json')).body as OpenApiDocument;
  });
  afterAll(async () => {
    await t.close();
  });

  function operationArbitrary(path: string, method: string, op: OpenApiOperation): fc.Arbitrary<Spec> {
    const params = op.parameters ?? [];
    const pathParams = params.filter((p) => p.in === 'path');
    const queryParams = params.filter((p) => p.in === 'query');
    const idArb = fc.oneof(fc.constant(documentId), fc.uuid(), nastyString.map((s) => encodeURIComponent(s).slice(0, 200) || '%20'));
    const pathArb = fc.tuple(...pathParams.map((p) => (p.schema?.type === 'number' || p.schema?.type === 'integer' ? fc.oneof(fc.integer({ min: -1, max: 3 }).map(String), idArb) : idArb))).map((values) => {
      let out = path;
      pathParams.forEach((p, i) => (out = out.replace(`{${p.name}}`, values[i])));
      return out;
    });
    const queryArb = fc.tuple(...queryParams.map((p) => fc.option(arbitraryFor(openapi, p.schema), { nil: undefined }))).map((values) => {
      const q = new URLSearchParams();
      queryParams.forEach((p, i) => {
        if (values[i] !== undefined) q.append(p.name, asText(values[i]));
      });
      return q.toString();
    });
    const content = op.requestBody?.content ?? {};
    let bodyArb: fc.Arbitrary<{ body?: Buffer; headers: Record<string, string> }> = fc.constant({ headers: {} });
    if (content['application/json']) {
      bodyArb = fc.oneof(
        { weight: 5, arbitrary: arbitraryFor(openapi, content['application/json'].schema).map((v) => ({ body: Buffer.from(JSON.stringify(v) ?? 'null'), headers: { 'content-type': 'application/json' } })) },
        { weight: 1, arbitrary: nastyString.map((s) => ({ body: Buffer.from(s), headers: { 'content-type': 'application/json' } })) },
      );
    } else if (content['multipart/form-data']) {
      const schema = content['multipart/form-data'].schema;
      const fields = Object.keys(schema?.properties ?? {}).filter((k) => k !== 'file');
      bodyArb = fc
        .tuple(
          fc.array(fc.tuple(fc.oneof(fc.constantFrom(...(fields.length ? fields : ['comment'])), fc.string({ maxLength: 8 })), fc.oneof(arbitraryFor(openapi, { type: 'string' }), fc.constantFrom('INTERNAL', 'policy', 'general', 'none'))), { maxLength: 8 }),
          fc.option(fc.tuple(nastyString, fc.uint8Array({ maxLength: 2000 })), { nil: undefined }),
        )
        .map(([list, file]) => {
          const boundary = `----fuzz${randomBytes(6).toString('hex')}`;
          const parts = list.map(([k, v]) => Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${asText(v)}\r\n`));
          if (file) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file[0].slice(0, 300)}"\r\nContent-Type: application/octet-stream\r\n\r\n`), Buffer.from(file[1]), Buffer.from('\r\n'));
          parts.push(Buffer.from(`--${boundary}--\r\n`));
          return { body: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
        });
    }
    const ifMatch = params.some((p) => p.in === 'header' && p.name === 'If-Match') ? fc.option(fc.constantFrom('"v1"', '"v2"', '*', 'W/"v1"', 'garbage', ''), { nil: undefined }) : fc.constant(undefined);
    return fc.record({ path: pathArb, query: queryArb, token: fc.constantFrom(...tokens), body: bodyArb, ifMatch }).map((r) => ({
      method: method.toUpperCase(),
      path: r.path,
      query: r.query,
      token: r.token,
      headers: { ...r.body.headers, ...(r.ifMatch !== undefined && { 'if-match': r.ifMatch }) },
      body: r.body.body,
    }));
  }

  async function runAll(specs: Spec[], concurrency = 4): Promise<{ findings: Finding[]; statuses: Map<number, number> }> {
    const findings: Finding[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < specs.length) {
          const s = specs[next++];
          const url = `${s.path}${s.query ? `?${s.query}` : ''}`;
          const res = await call(base, s.method, url, { token: s.token, headers: s.headers, body: s.body });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500 || !problemLike(res)) findings.push({ spec: `${s.method} ${url.slice(0, 200)} ${s.headers['content-type'] ?? ''}`, status: res.status, contentType: res.headers['content-type'] });
        }
      }),
    );
    return { findings, statuses };
  }

  it(`answers ${RUNS} requests generated from the OpenAPI document without a 5xx, errors as problem+json`, async () => {
    const operations = Object.entries(openapi.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    expect(operations.length).toBeGreaterThan(30);
    const arb = fc.oneof(
      ...operations.filter((o) => !SKIP.test(o.path)).map((o) => ({ weight: SLOW.test(o.path) && o.method === 'post' ? 1 : 5, arbitrary: operationArbitrary(o.path, o.method, o.op) })),
    );
    const specs = fc.sample(arb, { numRuns: RUNS, seed: SEED });
    const { findings, statuses } = await runAll(specs);
    if (findings.length) console.log(t.logs.filter((l) => l.includes('"error"')).slice(0, 5).join('\n'));
    expect(findings).toEqual([]);
    // The fuzzer reached past the guards, not only into 401s.
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(50);
    expect((await call(base, 'GET', '/api/v1/health/ready')).status).toBe(200);
  });

  it('answers the upload attack corpus with 4xx problem+json and stays ready', async () => {
    const b = 'XyZzY';
    const part = (headers: string, body: string | Buffer) => Buffer.concat([Buffer.from(`--${b}\r\n${headers}\r\n\r\n`), Buffer.from(body), Buffer.from('\r\n')]);
    const fields = ['title', 'kind', 'classification', 'department'].map((k, i) => part(`Content-Disposition: form-data; name="${k}"`, ['T', 'record', 'INTERNAL', 'general'][i]));
    const file = (filename: string | Buffer, content: string | Buffer = 'data') => part(Buffer.concat([Buffer.from('Content-Disposition: form-data; name="file"; filename="'), Buffer.from(filename), Buffer.from('"\r\nContent-Type: text/plain')]).toString('latin1'), content);
    const end = Buffer.from(`--${b}--\r\n`);
    const mp = `multipart/form-data; boundary=${b}`;
    const corpus: Array<{ name: string; contentType?: string; body: Buffer; extraHeaders?: Record<string, string> }> = [
      { name: 'CRLF in the filename', contentType: mp, body: Buffer.concat([...fields, file('a\r\nContent-Type: text/html\r\n\r\n<script>.txt'), end]) },
      { name: 'bare CR in the filename', contentType: mp, body: Buffer.concat([...fields, file('a\rb.txt'), end]) },
      { name: 'bidi override in the filename', contentType: mp, body: Buffer.concat([...fields, file('invoice\u202Efdp.exe'), end]) },
      { name: 'path traversal in the filename', contentType: mp, body: Buffer.concat([...fields, file('../../etc/passwd'), end]) },
      { name: 'invalid UTF-8 in the filename', contentType: mp, body: Buffer.concat([...fields, file(Buffer.from([0x66, 0xff, 0xfe, 0x2e, 0x74])), end]) },
      { name: 'two file parts', contentType: mp, body: Buffer.concat([...fields, file('a.txt'), file('b.txt'), end]) },
      { name: 'duplicate title fields', contentType: mp, body: Buffer.concat([...fields, fields[0], file('a.txt'), end]) },
      { name: 'a file part with another name', contentType: mp, body: Buffer.concat([...fields, part('Content-Disposition: form-data; name="other"; filename="x.txt"', 'x'), end]) },
      { name: 'no file part', contentType: mp, body: Buffer.concat([...fields, end]) },
      { name: 'an empty file', contentType: mp, body: Buffer.concat([...fields, file('e.txt', ''), end]) },
      { name: 'a huge part header', contentType: mp, body: Buffer.concat([...fields, part(`Content-Disposition: form-data; name="file"; filename="h.txt"\r\nX-Pad: ${'a'.repeat(100_000)}`, 'x'), end]) },
      { name: 'a huge field', contentType: mp, body: Buffer.concat([part('Content-Disposition: form-data; name="title"', 'x'.repeat(100_000)), ...fields.slice(1), file('a.txt'), end]) },
      { name: 'a part without Content-Disposition', contentType: mp, body: Buffer.concat([part('Content-Type: text/plain', 'x'), ...fields, file('a.txt'), end]) },
      { name: 'truncated multipart (no closing delimiter)', contentType: mp, body: Buffer.concat([...fields, Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\npartial`)]) },
      { name: 'truncated in the part headers', contentType: mp, body: Buffer.concat([...fields, Buffer.from(`--${b}\r\nContent-Disposition: form-da`)]) },
      { name: 'zero-length boundary', contentType: 'multipart/form-data; boundary=', body: Buffer.concat([...fields, file('a.txt'), end]) },
      { name: 'missing boundary', contentType: 'multipart/form-data', body: Buffer.concat([...fields, file('a.txt'), end]) },
      { name: 'boundary that never occurs', contentType: 'multipart/form-data; boundary=nope', body: Buffer.concat([...fields, file('a.txt'), end]) },
      { name: 'a 71-character boundary', contentType: `multipart/form-data; boundary=${'b'.repeat(71)}`, body: Buffer.from('garbage') },
      { name: 'not multipart', contentType: 'application/json', body: Buffer.from('{"title":"x"}') },
      { name: 'no content type', body: Buffer.from('raw bytes') },
      { name: 'an empty body', contentType: mp, body: Buffer.alloc(0) },
      { name: 'nested multipart/mixed', contentType: mp, body: Buffer.concat([...fields, part('Content-Disposition: form-data; name="file"\r\nContent-Type: multipart/mixed; boundary=inner', '--inner\r\nContent-Disposition: file; filename="x.txt"\r\n\r\nx\r\n--inner--'), end]) },
      { name: 'many fields', contentType: mp, body: Buffer.concat([...Array.from({ length: 200 }, (_, i) => part(`Content-Disposition: form-data; name="f${i}"`, 'v')), file('a.txt'), end]) },
    ];
    const findings: string[] = [];
    for (const c of corpus) {
      for (const url of ['/api/v1/documents', `/api/v1/documents/${documentId}/versions`]) {
        const res = await call(base, 'POST', url, { token: clerk, body: c.body, headers: { ...(c.contentType && { 'content-type': c.contentType }), 'if-match': '*', ...c.extraHeaders } });
        if (res.status >= 500 || !problemLike(res)) findings.push(`${c.name} → ${url}: ${res.status} ${res.headers['content-type']}`);
      }
    }

    // Framing and header attacks that http.request refuses to send: written to the socket as is.
    const head = (extra: string) => `POST /api/v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${clerk}\r\nContent-Type: ${mp}\r\n${extra}`;
    const rawCases: Array<{ name: string; bytes: Buffer }> = [
      { name: 'huge request header', bytes: Buffer.from(head(`X-Pad: ${'a'.repeat(40_000)}\r\nContent-Length: 0\r\n\r\n`)) },
      { name: 'CRLF injection in a header value', bytes: Buffer.from(head('X-A: a\rInjected: 1\r\nContent-Length: 0\r\n\r\n')) },
      { name: 'content-length and chunked', bytes: Buffer.from(head('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')) },
      { name: 'bad chunk size', bytes: Buffer.from(head('Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n')) },
      { name: 'body shorter than content-length', bytes: Buffer.concat([Buffer.from(head('Content-Length: 100000\r\n\r\n')), ...fields]) },
    ];
    for (const c of rawCases) {
      const res = await raw(port, c.bytes);
      if (res.status === 0) continue; // connection closed without an answer (the client half-closed a short body): not a server error
      if (res.status >= 500 || !/content-type: application\/problem\+json/i.test(res.head)) findings.push(`${c.name}: ${res.head.split('\r\n')[0]}`);
    }
    expect(findings).toEqual([]);
    expect((await call(base, 'GET', '/api/v1/health/ready')).status).toBe(200);
    expect(await request(t.http).get(`/api/v1/documents/${documentId}`).set('Authorization', `Bearer ${clerk}`).then((r) => r.status)).toBe(200);
    await expect(t.app.get(AuditVerifier).verify()).resolves.toMatchObject({ valid: true });
  });
});
