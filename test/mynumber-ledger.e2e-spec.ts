import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { AuditService } from '@kura/audit';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { sql } from './support/documents';

jest.setTimeout(60_000);

const auth = (u: TestUser) => ({ Authorization: `Bearer ${u.token}` });

interface Line {
  seq: number;
  hash: string;
  at: string;
  actorId: string | null;
  actorName: string;
  documentId: string;
  department: string;
  title?: string;
  operation: string;
  action: string;
  purpose: string | null;
  purposeName: { ja: string; en: string } | null;
  outcome: string;
  reason: string | null;
}

/**
 * GET /mynumber/ledger: the handling ledger of specific personal information (特定個人情報の
 * 取扱状況の記録), drawn from the audit chain against a signed checkpoint.
 */
describe('My Number handling ledger', () => {
  let t: TestApp;
  let auditor: TestUser;
  let responsible: TestUser;
  let handler: TestUser;
  let payrollHandler: TestUser;
  let staff: TestUser;
  let hrDoc: string;
  let payrollDoc: string;
  let plainDoc: string;

  function upload(u: TestUser, department: string, personalData = 'specific') {
    return request(t.http).post('/api/v1/documents').set(auth(u))
      .field('title', `扶養控除等申告書 ${department}`).field('kind', 'record').field('classification', 'CONFIDENTIAL')
      .field('department', department).field('personalData', personalData)
      .attach('file', randomBytes(64), 'form.bin');
  }

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await loginAdmin(t.http);
    auditor = await createUser(t.http, admin, { roles: ['auditor'], clearance: 'SECRET', departments: [] });
    responsible = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    handler = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    payrollHandler = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['payroll'], designations: ['mynumber_handler'] });
    staff = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'] });
    await request(t.http).post('/api/v1/mynumber/purposes').set(auth(responsible)).send({ code: 'withholding-slip', nameJa: '源泉徴収票作成', nameEn: 'Withholding tax slips' }).expect(201);

    hrDoc = (await upload(handler, 'hr').expect(201)).body.id;
    payrollDoc = (await upload(payrollHandler, 'payroll').expect(201)).body.id;
    plainDoc = (await upload(handler, 'hr', 'none').expect(201)).body.id;
    for (const [u, id] of [[handler, hrDoc], [payrollHandler, payrollDoc]] as const) {
      await request(t.http).put(`/api/v1/mynumber/documents/${id}/purposes`).set(auth(u)).send({ purposes: ['withholding-slip'] }).expect(200);
    }
    const purpose = { 'X-Purpose': 'withholding-slip' };
    await request(t.http).get(`/api/v1/documents/${hrDoc}`).set(auth(handler)).set(purpose).expect(200);
    await request(t.http).get(`/api/v1/documents/${hrDoc}`).set(auth(handler)).expect(400);
    await request(t.http).get(`/api/v1/documents/${hrDoc}/content`).set(auth(handler)).set(purpose).expect(200);
    await request(t.http).post(`/api/v1/documents/${hrDoc}/versions`).set(auth(handler)).set(purpose).set('If-Match', '"v1"').attach('file', randomBytes(16), 'v2.bin').expect(201);
    await request(t.http).get(`/api/v1/documents/${payrollDoc}`).set(auth(payrollHandler)).set({ 'X-Purpose': 'social-insurance' }).expect(403);
    await request(t.http).get(`/api/v1/documents/${plainDoc}`).set(auth(handler)).expect(200);
  });
  afterAll(async () => {
    await t.close();
  });

  it('has one line per handling act on specific documents, matching the audit events one to one', async () => {
    const res = await request(t.http).get('/api/v1/mynumber/ledger').set(auth(auditor)).expect(200);
    const lines = res.body.items as Line[];
    const events = await sql<{ seq: string; hash: string; at: Date; actor_id: string | null; actor_name: string; action: string; target_id: string; outcome: string; details: Record<string, unknown> }>(
      t.databaseUrl,
      `SELECT seq::text, hash, at, actor_id, actor_name, action, target_id, outcome, details FROM audit_events
        WHERE target_id = ANY($1) AND action IN ('document.create', 'document.read', 'document.download', 'document.version', 'document.restore', 'document.destroy', 'document.export')
          AND seq <= $2 ORDER BY seq`,
      [[hrDoc, payrollDoc], res.body.checkpoint.seq],
    );
    expect(events.length).toBe(7);
    expect(lines.map((l) => [l.seq, l.hash, l.at, l.actorId, l.actorName, l.action, l.documentId, l.outcome, l.purpose, l.reason])).toEqual(
      events.map((e) => [Number(e.seq), e.hash, e.at.toISOString(), e.actor_id, e.actor_name, e.action, e.target_id, e.outcome, e.details.purpose ?? null, e.details.reason ?? null]),
    );
    expect(lines.map((l) => `${l.operation}:${l.outcome}`)).toEqual([
      'create:allowed', 'create:allowed', 'read:allowed', 'read:denied', 'download:allowed', 'version:allowed', 'read:denied',
    ]);
    expect(lines.find((l) => l.operation === 'download')).toMatchObject({ documentId: hrDoc, department: 'hr', purpose: 'withholding-slip', purposeName: { ja: '源泉徴収票作成', en: 'Withholding tax slips' } });
    // The document that is not marked specific is not in the ledger; auditors never see titles.
    expect(lines.map((l) => l.documentId)).not.toContain(plainDoc);
    expect(lines.every((l) => l.title === undefined)).toBe(true);
    expect(JSON.stringify(res.body)).not.toContain('扶養控除等申告書');
  });

  it('is drawn against a signed checkpoint, and its own read is audited', async () => {
    const res = await request(t.http).get('/api/v1/mynumber/ledger').set(auth(auditor)).expect(200);
    expect(res.body).toMatchObject({ title: '特定個人情報 取扱状況記録 / My Number handling ledger', checkpoint: { seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/), algorithm: 'Ed25519' } });
    const [cp] = await sql<{ seq: string; hash: string }>(t.databaseUrl, 'SELECT seq::text, hash FROM audit_checkpoints WHERE seq = $1', [res.body.checkpoint.seq]);
    expect(cp.hash).toBe(res.body.checkpoint.hash);
    expect(res.body.items.every((l: Line) => l.seq <= res.body.checkpoint.seq)).toBe(true);
    const [read] = await sql<{ outcome: string; details: Record<string, unknown> }>(t.databaseUrl, `SELECT outcome, details FROM audit_events WHERE action = 'mynumber.ledger.read' AND actor_id = $1 ORDER BY seq DESC LIMIT 1`, [auditor.id]);
    expect(read).toMatchObject({ outcome: 'allowed', details: { count: 7, checkpointSeq: res.body.checkpoint.seq } });
  });

  it('shows titles to the responsible officer for the documents they may read, and filters by department and time', async () => {
    const res = await request(t.http).get('/api/v1/mynumber/ledger').query({ department: 'hr' }).set(auth(responsible)).expect(200);
    const lines = res.body.items as Line[];
    expect(lines.length).toBe(5);
    expect(lines.every((l) => l.documentId === hrDoc && l.title === '扶養控除等申告書 hr')).toBe(true);
    const [first] = lines;
    const later = await request(t.http).get('/api/v1/mynumber/ledger').query({ from: new Date(new Date(first.at).getTime() + 1).toISOString() }).set(auth(auditor)).expect(200);
    expect(later.body.items.map((l: Line) => l.seq)).not.toContain(first.seq);
  });

  it('exports csv with Japanese and English headers, and pdf', async () => {
    const csv = await request(t.http).get('/api/v1/mynumber/ledger').query({ format: 'csv' }).set(auth(auditor)).expect(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="mynumber-ledger-\d{8}T\d{6}Z\.csv"$/);
    const rows = csv.text.split('\r\n');
    expect(rows[0]).toBe('番号 / seq,ハッシュ / hash,日時 (UTC) / at,取扱者ID / actor id,取扱者 / actor,文書ID / document id,部署 / department,区分 / classification,件名 / title,操作 / operation,利用目的 / purpose,利用目的名 / purpose name,結果 / outcome,理由 / reason,照合チェックポイント / drawn against checkpoint');
    expect(rows.find((r) => r.includes('download / ダウンロード'))).toContain('withholding-slip,源泉徴収票作成,allowed / 許可');
    const pdf = await request(t.http).get('/api/v1/mynumber/ledger').query({ format: 'pdf' }).set(auth(auditor)).buffer(true).parse((r, done) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => done(null, Buffer.concat(chunks)));
    }).expect(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect((pdf.body as Buffer).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('the inventory shows auditors how many specific documents each department and series holds, never their rows or titles', async () => {
    const res = await request(t.http).get('/api/v1/reports/inventory').set(auth(auditor)).expect(200);
    expect(res.body.specificCounts).toEqual([
      { department: 'hr', seriesId: null, byStatus: { active: 1 }, total: 1 },
      { department: 'payroll', seriesId: null, byStatus: { active: 1 }, total: 1 },
    ]);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining([plainDoc]));
    expect(res.body.items.map((i: { id: string }) => i.id)).not.toContain(hrDoc);
    expect(JSON.stringify(res.body)).not.toContain('扶養控除等申告書 payroll');
  });

  it('is in the OpenAPI document, with the evidence bundle, the purposes routes and the X-Purpose header', async () => {
    const doc = (await request(t.http).get('/api/docs-json').expect(200)).body as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>> };
    for (const path of ['/api/v1/mynumber/ledger', '/api/v1/audit/evidence', '/api/v1/mynumber/purposes', '/api/v1/mynumber/documents/{id}/purposes']) expect(Object.keys(doc.paths)).toContain(path);
    expect(doc.paths['/api/v1/documents/{id}'].get.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'X-Purpose', in: 'header' })]));
    expect(doc.paths['/api/v1/audit/evidence'].get.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['from', 'to', 'fromSeq', 'toSeq', 'actor', 'targetId']));
  });

  it('is refused to staff, handlers and plain records officers (403 problem+json, audited)', async () => {
    const officer = await createUser(t.http, await loginAdmin(t.http), { roles: ['records_officer'], clearance: 'SECRET', departments: ['hr'] });
    for (const u of [staff, handler, officer]) {
      const res = await request(t.http).get('/api/v1/mynumber/ledger').set(auth(u)).expect(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const denied = await sql(t.databaseUrl, `SELECT actor_id FROM audit_events WHERE action = 'mynumber.ledger.read' AND outcome = 'denied'`);
    expect(denied.map((r) => r.actor_id)).toEqual([staff.id, handler.id, officer.id]);
    await request(t.http).get('/api/v1/mynumber/ledger').query({ format: 'xml' }).set(auth(auditor)).expect(400);
  });

  it('records certified destruction as a delete line (as the disposition executor audits it)', async () => {
    await t.app.get(AuditService).record({ actor: null, actorName: 'system', action: 'document.destroy', targetType: 'Document', targetId: payrollDoc, outcome: 'allowed', details: { batchId: 'b-1' } });
    const res = await request(t.http).get('/api/v1/mynumber/ledger').query({ department: 'payroll' }).set(auth(auditor)).expect(200);
    expect(res.body.items.at(-1)).toMatchObject({ documentId: payrollDoc, operation: 'delete', action: 'document.destroy', actorName: 'system', outcome: 'allowed', purpose: null });
  });
});
