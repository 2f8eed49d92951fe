import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestApp, TestApp } from './support/app';
import { sql } from './support/documents';
import { createUser, loginAdmin, TestUser } from './support/auth';

jest.setTimeout(300_000);

/**
 * The permission matrix of SPEC §4, written out independently of the policy code:
 * roles × clearance × same/other department × personal-data marking × action. Each case
 * asserts the HTTP status and the audit outcome recorded for that very request.
 */
const LEVEL = { PUBLIC: 0, INTERNAL: 1, CONFIDENTIAL: 2, SECRET: 3 } as const;
type Level = keyof typeof LEVEL;

interface Persona {
  key: string;
  roles: Array<'staff' | 'records_officer' | 'auditor' | 'admin'>;
  clearance: Level;
  departments: string[];
  handler: boolean;
}

const PERSONAS: Persona[] = [
  { key: 'staff-internal-A', roles: ['staff'], clearance: 'INTERNAL', departments: ['dept-a'], handler: false },
  { key: 'staff-secret-A', roles: ['staff'], clearance: 'SECRET', departments: ['dept-a'], handler: false },
  { key: 'handler-secret-A', roles: ['staff'], clearance: 'SECRET', departments: ['dept-a'], handler: true },
  { key: 'officer-confidential', roles: ['records_officer'], clearance: 'CONFIDENTIAL', departments: [], handler: false },
  { key: 'officer-secret', roles: ['records_officer'], clearance: 'SECRET', departments: [], handler: false },
  { key: 'auditor', roles: ['auditor'], clearance: 'SECRET', departments: [], handler: false },
  { key: 'admin', roles: ['admin'], clearance: 'SECRET', departments: [], handler: false },
];

interface DocSpec {
  key: string;
  classification: Level;
  department: string;
  personalData: 'none' | 'specific';
}

const DOCS: DocSpec[] = (['PUBLIC', 'CONFIDENTIAL', 'SECRET'] as Level[]).flatMap((classification) =>
  ['dept-a', 'dept-b'].flatMap((department) =>
    (['none', 'specific'] as const).map((personalData) => ({ key: `${classification}/${department}/${personalData}`, classification, department, personalData })),
  ),
);

type Action = 'read' | 'content' | 'version' | 'update' | 'reclassify';
const ACTIONS: Action[] = ['read', 'content', 'version', 'update', 'reclassify'];
/** Reclassification target: up from PUBLIC, down from CONFIDENTIAL and SECRET. */
const RECLASSIFY_TO: Level = 'INTERNAL';

const isStaff = (p: Persona) => p.roles.includes('staff');
const within = (p: Persona, d: { classification: Level }) => LEVEL[d.classification] <= LEVEL[p.clearance];
const ownDept = (p: Persona, d: { department: string }) => p.departments.includes(d.department);

/** Route-level refusals: the role holds no such permission on any document. */
function routeAllows(p: Persona, action: Action | 'create'): boolean {
  if (action === 'create' || action === 'content' || action === 'version') return isStaff(p);
  return !p.roles.includes('admin') || p.roles.length > 1; // admins hold no document permission (separation of duties)
}

function visible(p: Persona, d: DocSpec): boolean {
  if (d.personalData === 'specific') return isStaff(p) && p.handler && ownDept(p, d) && within(p, d);
  if (isStaff(p) && ((ownDept(p, d) && within(p, d)) || d.classification === 'PUBLIC')) return true;
  if (p.roles.includes('records_officer') && within(p, d)) return true;
  return p.roles.includes('auditor');
}

function allowed(p: Persona, d: DocSpec, action: Action): boolean {
  const staffInScope = isStaff(p) && ownDept(p, d) && within(p, d) && (d.personalData !== 'specific' || p.handler);
  switch (action) {
    case 'read':
      return true;
    case 'content':
      return staffInScope || (isStaff(p) && d.classification === 'PUBLIC' && d.personalData !== 'specific');
    case 'version':
      return staffInScope;
    case 'update':
      // Records officers keep the file plan's metadata right (title, tags, review date, series).
      return staffInScope || (p.roles.includes('records_officer') && within(p, d) && d.personalData !== 'specific');
    case 'reclassify':
      // Personas never own the documents: only records officers, to a level within their clearance.
      return p.roles.includes('records_officer') && within(p, { classification: RECLASSIFY_TO });
  }
}

function expected(p: Persona, d: DocSpec, action: Action): number {
  if (!routeAllows(p, action)) return 403;
  if (!visible(p, d)) return 404;
  if (!allowed(p, d, action)) return 403;
  return action === 'version' ? 201 : 200;
}

function expectedCreate(p: Persona, d: DocSpec): number {
  if (!routeAllows(p, 'create')) return 403;
  const ok = ownDept(p, d) && within(p, d) && (d.personalData !== 'specific' || p.handler);
  return ok ? 201 : 403;
}

const CASES = PERSONAS.flatMap((p) => DOCS.flatMap((d) => ACTIONS.map((a) => ({ p, d, a, status: expected(p, d, a) }))));
const CREATE_CASES = PERSONAS.flatMap((p) => DOCS.map((d) => ({ p, d, status: expectedCreate(p, d) })));

describe('document permission matrix', () => {
  let t: TestApp;
  const users = new Map<string, TestUser>();
  const docIds = new Map<string, string>();

  beforeAll(async () => {
    t = await startTestApp();
    const admin = await loginAdmin(t.http);
    for (const p of PERSONAS) {
      users.set(p.key, await createUser(t.http, admin, { roles: p.roles, clearance: p.clearance, departments: p.departments, designations: p.handler ? ['mynumber_handler'] : [] }));
    }
    const owner = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['dept-a', 'dept-b'], designations: ['mynumber_handler'] });
    for (const d of DOCS) {
      const res = await request(t.http).post('/api/v1/documents').set('Authorization', `Bearer ${owner.token}`)
        .field('title', `matrix ${d.key}`).field('kind', 'record').field('classification', d.classification)
        .field('department', d.department).field('personalData', d.personalData)
        .attach('file', randomBytes(64), 'matrix.bin');
      if (res.status !== 201) throw new Error(`seeding ${d.key}: ${res.status} ${JSON.stringify(res.body)}`);
      docIds.set(d.key, res.body.id);
    }
    // My Number: specific documents are handled only for a permitted purpose (every request below names it).
    const officer = await createUser(t.http, admin, { roles: ['records_officer'], clearance: 'SECRET' });
    await request(t.http).post('/api/v1/mynumber/purposes').set('Authorization', `Bearer ${officer.token}`).send({ code: 'matrix', nameJa: '検査', nameEn: 'Matrix' }).expect(201);
    for (const d of DOCS.filter((x) => x.personalData === 'specific')) {
      await request(t.http).put(`/api/v1/mynumber/documents/${docIds.get(d.key)}/purposes`).set('Authorization', `Bearer ${owner.token}`).send({ purposes: ['matrix'] }).expect(200);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  async function auditOutcomes(requestId: string): Promise<string[]> {
    // The audit records the server's request id; the access log line pairs a client's id with it.
    const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request' && l.clientRequestId === requestId);
    const rows = await sql<{ outcome: string }>(t.databaseUrl, 'SELECT outcome FROM audit_events WHERE request_id = $1 ORDER BY seq', [line?.requestId ?? requestId]);
    return rows.map((r) => r.outcome);
  }

  it('covers at least 150 cases', () => {
    expect(CASES.length + CREATE_CASES.length).toBeGreaterThanOrEqual(150);
  });

  it.each(CASES.map((c) => [c.p.key, c.a, c.d.key, c.status, c] as const))('%s %s %s → %i', async (_p, _a, _d, status, c) => {
    const user = users.get(c.p.key) as TestUser;
    const id = docIds.get(c.d.key) as string;
    const requestId = `matrix-${randomUUID()}`;
    const headers = { Authorization: `Bearer ${user.token}`, 'X-Request-Id': requestId, 'X-Purpose': 'matrix' };
    let res: request.Response;
    switch (c.a) {
      case 'read':
        res = await request(t.http).get(`/api/v1/documents/${id}`).set(headers);
        break;
      case 'content':
        res = await request(t.http).get(`/api/v1/documents/${id}/content`).set(headers);
        break;
      case 'version': {
        const [{ current_version }] = await sql<{ current_version: number }>(t.databaseUrl, 'SELECT current_version FROM documents WHERE id = $1', [id]);
        res = await request(t.http).post(`/api/v1/documents/${id}/versions`).set(headers).set('If-Match', `"v${current_version}"`).attach('file', randomBytes(32), 'next.bin');
        break;
      }
      case 'update':
        res = await request(t.http).patch(`/api/v1/documents/${id}`).set(headers).send({ title: `renamed by ${c.p.key}` });
        break;
      case 'reclassify':
        res = await request(t.http).patch(`/api/v1/documents/${id}`).set(headers).send({ classification: RECLASSIFY_TO });
        // Put it back so later cases see the matrix as designed.
        await sql(t.databaseUrl, 'UPDATE documents SET classification = $2 WHERE id = $1', [id, LEVEL[c.d.classification]]);
        break;
    }
    expect({ status: res.status }).toEqual({ status });
    const outcomes = await auditOutcomes(requestId);
    if (status < 300) expect(outcomes).toContain('allowed');
    else expect(outcomes).toContain('denied');
    expect(outcomes).not.toContain(status < 300 ? 'denied' : 'allowed');
  });

  it.each(CREATE_CASES.map((c) => [c.p.key, c.d.key, c.status, c] as const))('%s create %s → %i', async (_p, _d, status, c) => {
    const user = users.get(c.p.key) as TestUser;
    const requestId = `matrix-${randomUUID()}`;
    const before = (await sql(t.databaseUrl, 'SELECT id FROM documents')).length;
    const res = await request(t.http).post('/api/v1/documents').set({ Authorization: `Bearer ${user.token}`, 'X-Request-Id': requestId })
      .field('title', 'created in matrix').field('kind', 'record').field('classification', c.d.classification)
      .field('department', c.d.department).field('personalData', c.d.personalData)
      .attach('file', randomBytes(16), 'c.bin');
    expect({ status: res.status }).toEqual({ status });
    const after = (await sql(t.databaseUrl, 'SELECT id FROM documents')).length;
    expect(after - before).toBe(status === 201 ? 1 : 0);
    const outcomes = await auditOutcomes(requestId);
    expect(outcomes).toContain(status === 201 ? 'allowed' : 'denied');
  });

  /**
   * The views over many documents (SPEC §4: a document the reader may not see appears as a
   * count at most) and the per-document retention routes, for every persona: fixtures name
   * all twelve documents; each view must list exactly the documents `visible` says.
   */
  describe('retention views and access history', () => {
    const HOLD = '6c1e0e2a-1b2c-4d3e-8f4a-5b6c7d8e9f02';
    const BATCH = '7d2f1f3b-2c3d-4e4f-9a5b-6c7d8e9fa013';
    const readsViews = (p: Persona) => p.roles.includes('records_officer') || p.roles.includes('auditor');
    const isOfficer = (p: Persona) => p.roles.includes('records_officer');
    const expectedIds = (p: Persona) => DOCS.filter((d) => visible(p, d)).map((d) => docIds.get(d.key) as string).sort();
    const matrixIds = () => new Set(docIds.values());

    beforeAll(async () => {
      const ids = [...docIds.values()];
      // A released hold (so the documents stay due), a completed batch and its certificate, each naming all twelve.
      await sql(t.databaseUrl, `INSERT INTO record_series (id, code, name, trigger, disposition, citation, created_at, updated_at)
        VALUES ('8e3a2b4c-3d4e-4f5a-8b6c-7d8e9fa0b124', 'MATRIX-0', 'matrix', 'created', 'destroy', 'n/a', now(), now())`);
      await sql(t.databaseUrl, `UPDATE documents SET series_id = '8e3a2b4c-3d4e-4f5a-8b6c-7d8e9fa0b124' WHERE id = ANY($1::uuid[])`, [ids]);
      await sql(t.databaseUrl, `INSERT INTO legal_holds (id, name, reason, created_at, created_by_name, released_at, released_by_name) VALUES ($1, 'matrix', 'matrix', now(), 'm', now(), 'm')`, [HOLD]);
      await sql(t.databaseUrl, `INSERT INTO legal_hold_documents (hold_id, document_id) SELECT $1, unnest($2::uuid[])`, [HOLD, ids]);
      await sql(t.databaseUrl, `INSERT INTO disposition_batches (id, state, proposed_by, proposed_by_name, proposed_at, approved_by, approved_by_name, approved_at, completed_at)
        VALUES ($1, 'completed', $2, 'p', now(), $3, 'q', now(), now())`, [BATCH, randomUUID(), randomUUID()]);
      await sql(t.databaseUrl, `INSERT INTO disposition_items (batch_id, document_id, state, due_reason, plan, finished_at) SELECT $1, unnest($2::uuid[]), 'skipped', 'matrix', '{}', now()`, [BATCH, ids]);
      const certificate = { records: ids.map((recordId) => ({ recordId, title: 'matrix' })), notDestroyed: [] };
      await sql(t.databaseUrl, `INSERT INTO disposition_certificates (batch_id, issued_at, key_id, algorithm, certificate, signature) VALUES ($1, now(), 'k', 'Ed25519', $2, 'c2ln')`, [BATCH, JSON.stringify(certificate)]);
    });

    async function view(p: Persona, url: string, allowed: boolean, pick: (body: Record<string, unknown>) => { ids: string[]; withheld: number }): Promise<void> {
      const user = users.get(p.key) as TestUser;
      const requestId = `matrix-${randomUUID()}`;
      const res = await request(t.http).get(url).set({ Authorization: `Bearer ${user.token}`, 'X-Request-Id': requestId });
      expect({ status: res.status }).toEqual({ status: allowed ? 200 : 403 });
      expect(await auditOutcomes(requestId)).toEqual([allowed ? 'allowed' : 'denied']);
      if (!allowed) return;
      const { ids, withheld } = pick(res.body as Record<string, unknown>);
      expect(ids.filter((id) => matrixIds().has(id)).sort()).toEqual(expectedIds(p));
      if (withheld >= 0) expect(withheld).toBe(DOCS.length - expectedIds(p).length);
      for (const d of DOCS) if (!visible(p, d)) expect(JSON.stringify(res.body)).not.toContain(docIds.get(d.key));
    }

    it.each(PERSONAS.map((p) => [p.key, p] as const))('%s: GET /holds', async (_k, p) => {
      await view(p, '/api/v1/holds', readsViews(p), (b) => {
        const hold = (b.items as Array<{ id: string; documentIds: string[]; withheldDocuments: number }>).find((h) => h.id === HOLD)!;
        return { ids: hold.documentIds, withheld: hold.withheldDocuments };
      });
    });

    it.each(PERSONAS.map((p) => [p.key, p] as const))('%s: GET /disposition/batches/:id', async (_k, p) => {
      await view(p, `/api/v1/disposition/batches/${BATCH}`, readsViews(p), (b) => ({ ids: (b.items as Array<{ documentId: string }>).map((i) => i.documentId), withheld: b.withheldItems as number }));
    });

    it.each(PERSONAS.map((p) => [p.key, p] as const))('%s: GET /disposition/batches/:id/certificate', async (_k, p) => {
      await view(p, `/api/v1/disposition/batches/${BATCH}/certificate`, readsViews(p), (b) => ({
        ids: ((b.certificate as { records: Array<{ recordId: string }> }).records).map((r) => r.recordId),
        withheld: (b.redaction as { withheldRecords?: number } | undefined)?.withheldRecords ?? 0,
      }));
    });

    it.each(PERSONAS.map((p) => [p.key, p] as const))('%s: GET /disposition/due', async (_k, p) => {
      await view(p, '/api/v1/disposition/due?pageSize=500', isOfficer(p), (b) => ({ ids: (b.items as Array<{ documentId: string }>).map((i) => i.documentId), withheld: -1 }));
    });

    /** History: owners, records officers (what they may read) and auditors (every document, `specific` too). */
    function expectedHistory(p: Persona, d: DocSpec): number {
      if (p.roles.length === 1 && p.roles[0] === 'admin') return 403;
      if (p.roles.includes('auditor')) return 200;
      if (!visible(p, d)) return 404;
      return isOfficer(p) ? 200 : 403; // the personas never own the documents
    }

    /** Retention events: records officers, on documents they may see; hidden ones answer 404 like missing ones. */
    function expectedEvent(p: Persona, d: DocSpec): number {
      if (!isOfficer(p)) return 403;
      return visible(p, d) ? 201 : 404;
    }

    const PER_DOC = PERSONAS.flatMap((p) => DOCS.flatMap((d) => [
      { p, d, what: 'access-history' as const, status: expectedHistory(p, d) },
      { p, d, what: 'retention-event' as const, status: expectedEvent(p, d) },
    ]));

    it.each(PER_DOC.map((c) => [c.p.key, c.what, c.d.key, c.status, c] as const))('%s %s %s → %i', async (_p, _w, _d, status, c) => {
      const user = users.get(c.p.key) as TestUser;
      const id = docIds.get(c.d.key) as string;
      const requestId = `matrix-${randomUUID()}`;
      const headers = { Authorization: `Bearer ${user.token}`, 'X-Request-Id': requestId };
      const res = c.what === 'access-history'
        ? await request(t.http).get(`/api/v1/documents/${id}/access-history`).set(headers)
        : await request(t.http).post('/api/v1/retention/events').set(headers).send({ event: 'matrix-checked', occurredAt: '2020-01-01T00:00:00Z', documentIds: [id] });
      expect({ status: res.status }).toEqual({ status });
      const outcomes = await auditOutcomes(requestId);
      expect(outcomes).toContain(status < 300 ? 'allowed' : 'denied');
      expect(outcomes).not.toContain(status < 300 ? 'denied' : 'allowed');
      if (c.what === 'access-history' && status === 200) {
        expect(res.body).toMatchObject({ page: 1, total: expect.any(Number), document: { id } });
        // A title only for those who may read the document; otherwise its hash.
        const [{ title }] = await sql<{ title: string }>(t.databaseUrl, 'SELECT title FROM documents WHERE id = $1', [id]);
        if (visible(c.p, c.d)) expect(res.body.document).toMatchObject({ title });
        else {
          expect(res.body.document).toMatchObject({ titleSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
          expect(JSON.stringify(res.body)).not.toContain(title);
        }
      }
    });
  });
});
