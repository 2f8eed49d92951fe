import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Client } from 'pg';
import request from 'supertest';
import { extract, pack } from 'tar-stream';
import { AuditCheckpointService, AuditEventView, canonicalManifest, EvidenceManifest, recomputeEventHash, sha256Hex } from '@kura/audit';
import { Signer } from '@kura/signing';
import { runCli } from '../apps/cli/src/cli';
import { runKeysCommand } from '../apps/cli/src/keys.command';
import { startTestApp, TestApp } from './support/app';
import { lastSeq, recordEvents, tamper } from './support/audit';
import { createUser, loginAdmin, TestUser } from './support/auth';

jest.setTimeout(60_000);

const run = promisify(execFile);

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

type Entries = Array<[string, Buffer]>;

/** The body as bytes, whatever the content type. */
function raw(req: request.Test): request.Test {
  return req.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
}

async function untar(bytes: Buffer): Promise<Entries> {
  const out: Entries = [];
  const ex = extract();
  Readable.from([bytes]).pipe(ex);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    out.push([entry.header.name, Buffer.concat(chunks)]);
  }
  return out;
}

async function tar(entries: Entries): Promise<Buffer> {
  const p = pack();
  for (const [name, bytes] of entries) p.entry({ name, size: bytes.length }, bytes);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const get = (entries: Entries, name: string): Buffer => {
  const found = entries.find(([n]) => n === name);
  if (!found) throw new Error(`no ${name} in the bundle`);
  return found[1];
};
const put = (entries: Entries, name: string, bytes: Buffer): Entries => entries.map(([n, b]) => [n, n === name ? bytes : b]);
const eventLines = (entries: Entries): string[] => get(entries, 'events.jsonl').toString('utf8').split('\n').slice(0, -1);
const withEvents = (entries: Entries, lines: string[]): Entries => put(entries, 'events.jsonl', Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8'));
const manifestOf = (entries: Entries): EvidenceManifest => JSON.parse(get(entries, 'manifest.json').toString('utf8')) as EvidenceManifest;

/**
 * GET /audit/evidence and `audit verify-bundle`: a bundle an auditor checks without Kura.
 * The CLI is run through its command function, exactly as `npm run cli` calls it.
 */
describe('audit evidence bundle', () => {
  let t: TestApp;
  let auditor: TestUser;
  let dir: string;
  let trustedKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    dir = await mkdtemp(path.join(os.tmpdir(), 'kura-evidence-'));
    const admin = await loginAdmin(t.http);
    auditor = await createUser(t.http, admin, { roles: ['auditor'], clearance: 'SECRET', departments: [] });
    await recordEvents(t, 4, 'early');
    await t.app.get(AuditCheckpointService).create();
    await recordEvents(t, 6, 'evidence');
    trustedKey = path.join(dir, 'trusted.pem');
    await writeFile(trustedKey, t.app.get(Signer).publicKeyPem);
    await writeFile(path.join(dir, 'other.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
  });
  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
    const out: string[] = [];
    const code = await runCli(['audit', 'verify-bundle', ...argv], { out: (l) => out.push(l), err: (l) => out.push(l), env: {} });
    return { code, out: out.join('\n') };
  }

  let n = 0;
  async function verify(bytes: Buffer, ...options: string[]): Promise<{ code: number; out: string }> {
    const file = path.join(dir, `bundle-${++n}.tar`);
    await writeFile(file, bytes);
    return cli(file, ...options);
  }

  async function bundle(query: Record<string, string> = {}): Promise<Buffer> {
    const res = await raw(request(t.http).get('/api/v1/audit/evidence').query(query).set(bearer(auditor.token))).expect(200);
    expect(res.headers['content-type']).toBe('application/x-tar');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-evidence-\d{8}T\d{6}Z\.tar"$/);
    return res.body as Buffer;
  }

  it('streams a complete range that verifies offline with the published key, and audits the export first', async () => {
    const head = await lastSeq(t);
    const bytes = await bundle();
    const entries = await untar(bytes);
    const keyId = t.app.get(Signer).keyId;
    expect(entries.map(([n]) => n)).toEqual(['manifest.json', 'manifest.sig', `keys/${keyId}.pub.pem`, 'checkpoints.jsonl', 'events.jsonl']);
    const manifest = manifestOf(entries);
    expect(manifest).toMatchObject({ format: 'kura-audit-evidence/1', keyId, complete: true, filter: null, range: { firstSeq: 1, lastSeq: head } });
    expect(manifest.counts).toEqual({ events: head, checkpoints: 1, keys: 1 });
    const events = eventLines(entries).map((l) => JSON.parse(l) as AuditEventView);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(events.every((e) => recomputeEventHash(e) === e.hash)).toBe(true);
    expect(get(entries, 'manifest.json').toString('utf8')).toBe(canonicalManifest(manifest));

    const ok = await verify(bytes, '--public-key', trustedKey);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(new RegExp(`^VALID: events 1–${head}, ${head} event\\(s\\) recomputed, 1 checkpoint\\(s\\) verified, manifest signed with Ed25519 key ${keyId} \\(trusted\\)`));
    expect(ok.out).toMatch(/Complete: every event of the range is present and chained/);
    const untrusted = await verify(bytes);
    expect(untrusted.code).toBe(0);
    expect(untrusted.out).toMatch(/Keys were taken from the bundle itself/);

    // The export was on the record before the bundle: its event follows the range it describes.
    const db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query<{ seq: string; actor_id: string; outcome: string; details: Record<string, unknown> }>(
        `SELECT seq::text, actor_id, outcome, details FROM audit_events WHERE action = 'audit.evidence.export' ORDER BY seq`,
      );
      expect(rows).toEqual([
        expect.objectContaining({ actor_id: auditor.id, outcome: 'allowed', details: expect.objectContaining({ complete: true, range: { firstSeq: 1, lastSeq: head }, manifestSha256: sha256Hex(get(entries, 'manifest.json')) }) }),
      ]);
      expect(Number(rows[0].seq)).toBeGreaterThan(head);
    } finally {
      await db.end();
    }
  });

  it('checks out with nothing but tar, openssl, sha256sum and the script in docs/ (docs/security.md)', async () => {
    const bytes = await bundle();
    const out = path.join(dir, 'extracted');
    await mkdir(out);
    await writeFile(path.join(dir, 'plain.tar'), bytes);
    await run('tar', ['-xf', path.join(dir, 'plain.tar'), '-C', out]);
    const opensslOk = await run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', trustedKey, '-rawin', '-in', 'manifest.json', '-sigfile', 'manifest.sig'], { cwd: out });
    expect(opensslOk.stdout).toMatch(/Signature Verified Successfully/);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as EvidenceManifest;
    await writeFile(path.join(dir, 'SHA256SUMS'), manifest.files.map((f) => `${f.sha256}  ${f.path}\n`).join(''));
    await run('sha256sum', ['-c', path.join(dir, 'SHA256SUMS')], { cwd: out });
    const script = path.join(__dirname, '..', 'docs', 'verify-evidence.mjs');
    const good = await run(process.execPath, [script, out, trustedKey]);
    expect(good.stdout).toMatch(/^VALID: \d+ events, complete range/);

    // The same script catches an edited event.
    const events = await readFile(path.join(out, 'events.jsonl'), 'utf8');
    await writeFile(path.join(out, 'events.jsonl'), events.replace('"actorName":"alice"', '"actorName":"alicf"'));
    const bad = await run(process.execPath, [script, out, trustedKey]).then(() => null, (err: { code: number; stdout: string }) => err);
    expect(bad).toMatchObject({ code: 1, stdout: expect.stringMatching(/^INVALID\n.*events\.jsonl: SHA-256 differs[\s\S]*hash does not match its content/) });
    await expect(run('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(dir, 'other.pem'), '-rawin', '-in', 'manifest.json', '-sigfile', 'manifest.sig'], { cwd: out })).rejects.toBeDefined();
  });

  describe('each tamper is detected by the CLI', () => {
    let entries: Entries;
    beforeAll(async () => {
      entries = await untar(await bundle());
    });

    it('an edited event', async () => {
      const lines = eventLines(entries);
      lines[3] = lines[3].replace('"outcome":"allowed"', '"outcome":"denied"').replace('"outcome":"denied"', '"outcome":"failed"');
      const r = await verify(await tar(withEvents(entries, lines)), '--public-key', trustedKey);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^INVALID: /);
      expect(r.out).toMatch(/event 4 was altered/);
      expect(r.out).toMatch(/events\.jsonl differs from the manifest/);
    });

    it('an edited event whose hashes were all recomputed (the checkpoint and the manifest still catch it)', async () => {
      const events = eventLines(entries).map((l) => JSON.parse(l) as AuditEventView);
      events[1] = { ...events[1], actorName: 'mallory' };
      for (let i = 1; i < events.length; i++) {
        if (i > 1) events[i] = { ...events[i], prevHash: events[i - 1].hash };
        events[i] = { ...events[i], hash: recomputeEventHash(events[i]) };
      }
      const r = await verify(await tar(withEvents(entries, events.map((e) => JSON.stringify(e)))), '--public-key', trustedKey);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/differs from signed checkpoint/);
      expect(r.out).toMatch(/events\.jsonl differs from the manifest/);
    });

    it('a dropped event', async () => {
      const lines = eventLines(entries);
      lines.splice(5, 1);
      const r = await verify(await tar(withEvents(entries, lines)), '--public-key', trustedKey);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/event 6 is missing \(the next event is 7\)/);
    });

    it('reordered events', async () => {
      const lines = eventLines(entries);
      [lines[6], lines[7]] = [lines[7], lines[6]];
      const r = await verify(await tar(withEvents(entries, lines)), '--public-key', trustedKey);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/event 7 is missing \(the next event is 8\)|event 7 is out of order/);
      expect(r.out).toMatch(/event 8 does not link to event 7|event 7 is out of order/);
    });

    it('a forged manifest (a narrower range, same signature)', async () => {
      const manifest = manifestOf(entries);
      const forged = { ...manifest, statement: `${manifest.statement} (amended)` };
      const r = await verify(await tar(put(entries, 'manifest.json', Buffer.from(canonicalManifest(forged), 'utf8'))), '--public-key', trustedKey);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/the manifest signature does not verify/);
    });

    it('a wrong key: a bundle re-signed with another key, and a swapped key file', async () => {
      // The attacker rewrites the manifest under their own key and ships that key.
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const keyId = Signer.keyIdOf(pem);
      const manifest = manifestOf(entries);
      const keyEntry: [string, Buffer] = [`keys/${keyId}.pub.pem`, Buffer.from(pem)];
      const forged = { ...manifest, keyId, files: [...manifest.files, { path: keyEntry[0], size: keyEntry[1].length, sha256: sha256Hex(keyEntry[1]) }] };
      const forgedBytes = Buffer.from(canonicalManifest(forged), 'utf8');
      const resigned = [...put(put(entries, 'manifest.json', forgedBytes), 'manifest.sig', sign(null, forgedBytes, privateKey)), keyEntry] as Entries;
      const r = await verify(await tar(resigned), '--public-key', trustedKey);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(new RegExp(`signed by key ${keyId}, which is not one of the trusted keys`));

      // A key file replaced under the real key's name cannot vouch for it.
      const realKeyFile = `keys/${manifest.keyId}.pub.pem`;
      const swapped = await verify(await tar(put(entries, realKeyFile, Buffer.from(pem))));
      expect(swapped.code).toBe(1);
      expect(swapped.out).toMatch(new RegExp(`${realKeyFile} does not hold the Ed25519 key ${manifest.keyId}`));
    });

    it('a file that is not a bundle, and usage errors', async () => {
      const r = await verify(Buffer.from('not a tar archive at all'.repeat(40)));
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^INVALID/);
      expect((await cli()).code).toBe(2);
      expect((await cli(path.join(dir, 'missing.tar'))).code).toBe(2);
      const notAKey = path.join(dir, 'not-a-key.pem');
      await writeFile(notAKey, 'hello');
      expect((await cli(path.join(dir, 'bundle-1.tar'), '--public-key', notAKey)).code).toBe(2);
    });
  });

  it('a filtered export says it proves authenticity, not completeness, and still verifies', async () => {
    const bytes = await bundle({ action: 'evidence.event', outcome: 'allowed' });
    const entries = await untar(bytes);
    const manifest = manifestOf(entries);
    expect(manifest).toMatchObject({ complete: false, filter: { action: 'evidence.event', outcome: 'allowed' } });
    expect(manifest.statement).toMatch(/NOT completeness/);
    const events = eventLines(entries).map((l) => JSON.parse(l) as AuditEventView);
    expect(events.length).toBe(4);
    expect(events.every((e) => e.action === 'evidence.event' && e.outcome === 'allowed')).toBe(true);
    const r = await verify(bytes, '--public-key', trustedKey);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/NOT COMPLETE: Filtered export: proves the authenticity of each included event/);
  });

  it('a time window selects a contiguous sequence range', async () => {
    const db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    let at: Date;
    try {
      at = (await db.query<{ at: Date }>(`SELECT at FROM audit_events WHERE action = 'evidence.event' ORDER BY seq LIMIT 1`)).rows[0].at;
    } finally {
      await db.end();
    }
    const bytes = await bundle({ from: at.toISOString() });
    const manifest = manifestOf(await untar(bytes));
    expect(manifest.range?.firstSeq).toBeGreaterThan(1);
    expect(manifest.requested).toEqual({ from: at.toISOString(), to: null, fromSeq: null, toSeq: null });
    expect((await verify(bytes, '--public-key', trustedKey)).code).toBe(0);
  });

  it('a sequence range selects exactly those events (e.g. between two checkpoints)', async () => {
    const bytes = await bundle({ fromSeq: '3', toSeq: '7' });
    const entries = await untar(bytes);
    expect(manifestOf(entries).range).toMatchObject({ firstSeq: 3, lastSeq: 7 });
    expect(eventLines(entries).map((l) => (JSON.parse(l) as AuditEventView).seq)).toEqual([3, 4, 5, 6, 7]);
    expect((await verify(bytes, '--public-key', trustedKey)).code).toBe(0);
    await request(t.http).get('/api/v1/audit/evidence').query({ fromSeq: '7', toSeq: '3' }).set(bearer(auditor.token)).expect(400);
    await request(t.http).get('/api/v1/audit/evidence').query({ fromSeq: '0' }).set(bearer(auditor.token)).expect(400);
  });

  it('is for auditors only; a refusal is audited and sends no bundle', async () => {
    const admin = await loginAdmin(t.http);
    const clerk = await createUser(t.http, admin, { roles: ['staff'] });
    const res = await request(t.http).get('/api/v1/audit/evidence').set(bearer(clerk.token)).expect(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const bad = await request(t.http).get('/api/v1/audit/evidence').query({ from: 'yesterday' }).set(bearer(auditor.token)).expect(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('keys rotated since a checkpoint: the bundle carries the retired public key too', async () => {
    const lines: string[] = [];
    expect(await runKeysCommand(['rotate-signing'], t.app, (l) => lines.push(l))).toBe(0);
    const second = await startTestApp({ databaseUrl: t.databaseUrl, s3: t.s3, keysDir: t.config.keysDir });
    try {
      const { retiredKeyId, keyId } = JSON.parse(lines.join('\n')) as { retiredKeyId: string; keyId: string };
      const res = await raw(request(second.http).get('/api/v1/audit/evidence').set(bearer(auditor.token))).expect(200);
      const entries = await untar(res.body as Buffer);
      expect(entries.map(([n]) => n).filter((n) => n.startsWith('keys/')).sort()).toEqual([`keys/${keyId}.pub.pem`, `keys/${retiredKeyId}.pub.pem`].sort());
      const newKey = path.join(dir, 'new.pem');
      await writeFile(newKey, second.app.get(Signer).publicKeyPem);
      const r = await verify(res.body as Buffer, '--public-key', newKey);
      expect(r.code).toBe(0);
      // The old key alone does not vouch for a manifest signed after the rotation.
      expect((await verify(res.body as Buffer, '--public-key', trustedKey)).code).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('refuses to sign evidence over a tampered chain (audited as failed)', async () => {
    await tamper(t, (db) => db.query(`UPDATE audit_events SET actor_name = 'mallory' WHERE seq = 2`));
    const res = await request(t.http).get('/api/v1/audit/evidence').set(bearer(auditor.token));
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ firstInvalidSeq: 2 });
    const db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT outcome, details FROM audit_events WHERE action = 'audit.evidence.export' ORDER BY seq DESC LIMIT 1`);
      expect(rows[0]).toMatchObject({ outcome: 'failed', details: { reason: 'chain-invalid', firstInvalidSeq: 2 } });
    } finally {
      await db.end();
    }
  });
});
