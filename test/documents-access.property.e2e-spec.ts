import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { AbilityFactory, abilityToSql, DOCUMENT_SQL_FIELDS, DocumentAccess, documentSubject, RETENTION_DOCUMENT_ACTION } from '@kura/access';
import { DomainError } from '@kura/common';
import { DocumentsRepository, DocumentEntity } from '@kura/documents';
import { Designation, Role, type Actor } from '@kura/identity';
import { DispositionService, HoldsService, RetentionRepository } from '@kura/retention';
import { startTestApp, TestApp } from './support/app';
import { driveTo } from './support/documents';

const DEPARTMENTS = ['finance', 'hr', 'legal', 'sales'];
const MARKINGS = ['none', 'personal', 'specific'] as const;
const KINDS = ['policy', 'procedure', 'record'] as const;
const STATUSES = ['active', 'on_hold', 'pending_disposition', 'destroyed'] as const;

/** A pool of owners, so "owner" conditions (reclassify) have hits as well as misses. */
const OWNERS = Array.from({ length: 4 }, () => randomUUID());

const documentArb = fc.record({
  classification: fc.integer({ min: 0, max: 3 }),
  department: fc.constantFrom(...DEPARTMENTS),
  personalData: fc.constantFrom(...MARKINGS),
  kind: fc.constantFrom(...KINDS),
  status: fc.constantFrom(...STATUSES),
  ownerId: fc.constantFrom(...OWNERS),
  tags: fc.subarray(['a', 'b', 'c']),
  seriesId: fc.option(fc.constant('5b0f3f55-5a0c-4e4c-8a51-7a1f2b2c3d4e'), { nil: null }),
});

const actorArb = fc.record({
  id: fc.constantFrom(...OWNERS, randomUUID()),
  roles: fc.subarray([Role.Staff, Role.RecordsOfficer, Role.Auditor, Role.Admin]),
  clearance: fc.integer({ min: 0, max: 3 }),
  departments: fc.subarray(DEPARTMENTS),
  designations: fc.subarray([Designation.MyNumberHandler]),
});

/**
 * SPEC §7 "one policy, two uses": for random users over a random document set, the rows
 * the SQL translation of the CASL rules selects are exactly those `ability.can` allows.
 */
jest.setTimeout(120_000);

describe('document access: SQL list filter equals ability.can', () => {
  let t: TestApp;
  let docs: DocumentEntity[];

  beforeAll(async () => {
    t = await startTestApp();
    const now = new Date();
    docs = fc.sample(documentArb, { numRuns: 300, seed: 4242 }).map((d, i) =>
      Object.assign(new DocumentEntity(), { ...d, id: randomUUID(), title: `doc ${i}`, reviewDueAt: null, currentVersion: 1, createdAt: now, updatedAt: now, lastAccessedAt: null }),
    );
    const db = t.app.get(DocumentsRepository).dataSource;
    await db.transaction(async (m) => {
      // documents.series_id references the file plan (retention's foreign key).
      await m.query(
        `INSERT INTO record_series (id, code, name, trigger, disposition, citation, created_at, updated_at)
         VALUES ('5b0f3f55-5a0c-4e4c-8a51-7a1f2b2c3d4e', 'PROPERTY-1', 'property test', 'created', 'destroy', 'n/a', now(), now())`,
      );
      for (const d of docs) {
        await m.query(
          `INSERT INTO documents (id, title, kind, classification, department, owner_id, tags, personal_data, series_id, status, current_version, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', 1, now(), now())`,
          [d.id, d.title, d.kind, d.classification, d.department, d.ownerId, d.tags, d.personalData, d.seriesId]);
        await m.query(
          `INSERT INTO document_versions (id, document_id, number, size, sha256, media_type, original_filename, author_id, created_at, storage_key, wrapped_key, kek_id, nonce_prefix, chunk_size)
           VALUES ($1, $2, 1, 1, repeat('a', 64), 'text/plain', 'x.txt', $3, now(), $4, $5, 'kek-20260101-00000000', $6, 1048576)`,
          [randomUUID(), d.id, d.ownerId, `documents/${d.id}/v1`, randomBytes(60), randomBytes(8)]);
        await driveTo(m, d.id, d.status);
      }
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['read', 1000],
    ['read_content', 300],
    ['version', 300],
    ['update', 300],
    ['reclassify', 300],
    ['downgrade', 300],
    ['read_history', 300],
  ] as const)('holds for action %s over %i generated users × 300 documents', async (action, runs) => {
    const abilities = t.app.get(AbilityFactory);
    const repo = t.app.get(DocumentsRepository);
    let nonTrivial = 0;
    await fc.assert(
      fc.asyncProperty(actorArb, async (a) => {
        const actor: Actor = { ...a, username: 'prop', sessionId: 'prop' };
        const ability = abilities.forActor(actor);
        const access = abilityToSql(ability, action, 'Document', DOCUMENT_SQL_FIELDS);
        const rows = (await repo.dataSource.query(`SELECT d.id FROM documents d WHERE ${access.sql}`, access.params)) as Array<{ id: string }>;
        const fromSql = rows.map((r) => r.id).sort();
        const fromCan = docs.filter((d) => ability.can(action, documentSubject(d))).map((d) => d.id).sort();
        if (fromCan.length > 0 && fromCan.length < docs.length) nonTrivial++;
        expect(fromSql).toEqual(fromCan);
      }),
      { numRuns: runs, seed: 20261126 },
    );
    // The generator must exercise the policy, not just "nothing" and "everything".
    expect(nonTrivial).toBeGreaterThan(action === 'read' ? 300 : 10);
  });

  it('the list path (repository, paging, count) agrees with ability.can', async () => {
    const abilities = t.app.get(AbilityFactory);
    const repo = t.app.get(DocumentsRepository);
    await fc.assert(
      fc.asyncProperty(actorArb, async (a) => {
        const ability = abilities.forActor({ ...a, username: 'prop', sessionId: 'prop' });
        const { rows, total } = await repo.list(abilityToSql(ability, 'read', 'Document', DOCUMENT_SQL_FIELDS), {}, 1, 1000);
        const expected = docs.filter((d) => ability.can('read', documentSubject(d))).map((d) => d.id).sort();
        expect(total).toBe(expected.length);
        expect(rows.map((r) => r.id).sort()).toEqual(expected);
      }),
      { numRuns: 100, seed: 7 },
    );
  });

  describe('the retention views over many documents (holds, batches, due list, certificates, events)', () => {
    const HOLD = '6c1e0e2a-1b2c-4d3e-8f4a-5b6c7d8e9f01';
    const BATCH = '7d2f1f3b-2c3d-4e4f-9a5b-6c7d8e9fa012';
    const prop = (a: Omit<Actor, 'username' | 'sessionId'>): Actor => ({ ...a, username: 'prop', sessionId: 'prop' });
    const sorted = (ids: Iterable<string>) => [...ids].sort();
    let canRead: (actor: Actor) => string[];

    beforeAll(async () => {
      const abilities = t.app.get(AbilityFactory);
      canRead = (actor) => sorted(docs.filter((d) => abilities.forActor(actor).can('read', documentSubject(d))).map((d) => d.id));
      // One released hold, one completed batch and its certificate, each naming all 300 documents.
      const db = t.app.get(DocumentsRepository).dataSource;
      const ids = docs.map((d) => d.id);
      const proposer = randomUUID();
      await db.transaction(async (m) => {
        await m.query(`INSERT INTO legal_holds (id, name, reason, created_at, created_by_name, released_at, released_by_name) VALUES ($1, 'all', 'property', now(), 'prop', now(), 'prop')`, [HOLD]);
        await m.query(`INSERT INTO legal_hold_documents (hold_id, document_id) SELECT $1, unnest($2::uuid[])`, [HOLD, ids]);
        await m.query(
          `INSERT INTO disposition_batches (id, state, proposed_by, proposed_by_name, proposed_at, approved_by, approved_by_name, approved_at, completed_at)
           VALUES ($1, 'completed', $2, 'p', now(), $3, 'q', now(), now())`,
          [BATCH, proposer, randomUUID()],
        );
        await m.query(`INSERT INTO disposition_items (batch_id, document_id, state, due_reason, plan, finished_at) SELECT $1, unnest($2::uuid[]), 'skipped', 'property', '{}', now()`, [BATCH, ids]);
        const certificate = { records: ids.slice(0, 200).map((recordId) => ({ recordId })), notDestroyed: ids.slice(200).map((recordId) => ({ recordId, outcome: 'skipped', reason: 'property' })) };
        await m.query(`INSERT INTO disposition_certificates (batch_id, issued_at, key_id, algorithm, certificate, signature) VALUES ($1, now(), 'k', 'Ed25519', $2, 'c2ln')`, [BATCH, JSON.stringify(certificate)]);
      });
    });

    it('visibility() and requireAll() (events, holds, proposals) decide exactly as ability.can', async () => {
      const access = t.app.get(DocumentAccess);
      const abilities = t.app.get(AbilityFactory);
      await fc.assert(
        fc.asyncProperty(actorArb, fc.subarray(docs, { minLength: 1, maxLength: 5 }), async (a, subset) => {
          const actor = prop(a);
          const { visible, withheld } = await access.visibility(actor, docs.map((d) => d.id));
          expect(sorted(visible)).toEqual(canRead(actor));
          expect(withheld).toBe(docs.length - visible.size);
          const ability = abilities.forActor(actor);
          const ids = subset.map((d) => d.id);
          const outcome = await access.requireAll(actor, ids, RETENTION_DOCUMENT_ACTION, 'property.check').then(() => 'ok', (e: DomainError) => e.code);
          const hidden = subset.some((d) => !ability.can('read', documentSubject(d)) && !ability.can(RETENTION_DOCUMENT_ACTION, documentSubject(d)));
          const refused = subset.some((d) => !ability.can(RETENTION_DOCUMENT_ACTION, documentSubject(d)));
          expect(outcome).toBe(hidden ? 'not-found' : refused ? 'forbidden' : 'ok');
        }),
        { numRuns: 150, seed: 11 },
      );
    });

    it('the holds list, a batch and its certificate show exactly the documents ability.can reads', async () => {
      const holds = t.app.get(HoldsService);
      const disposition = t.app.get(DispositionService);
      await fc.assert(
        fc.asyncProperty(actorArb, async (a) => {
          const actor = prop(a);
          const expected = canRead(actor);
          const hold = (await holds.list(actor)).items.find((h) => h.id === HOLD)!;
          expect(sorted(hold.documentIds)).toEqual(expected);
          expect(hold.withheldDocuments).toBe(docs.length - expected.length);
          const batch = await disposition.batch(actor, BATCH);
          expect(sorted(batch.items.map((i) => i.documentId))).toEqual(expected);
          expect(batch.withheldItems).toBe(docs.length - expected.length);
          const file = JSON.parse((await disposition.certificate(actor, BATCH, 'json')).body.toString('utf8')) as {
            certificate: { records: Array<{ recordId: string }>; notDestroyed: Array<{ recordId: string }> };
            redaction?: { withheldRecords: number; withheldNotDestroyed: number };
          };
          const shown = [...file.certificate.records, ...file.certificate.notDestroyed].map((r) => r.recordId);
          expect(sorted(shown)).toEqual(expected);
          expect((file.redaction?.withheldRecords ?? 0) + (file.redaction?.withheldNotDestroyed ?? 0)).toBe(docs.length - expected.length);
        }),
        { numRuns: 60, seed: 12 },
      );
    });

    it('the due list (filtered and paged in SQL) is exactly the due documents ability.can reads', async () => {
      const disposition = t.app.get(DispositionService);
      const retention = t.app.get(RetentionRepository);
      const due = new Set((await retention.due(retention.dataSource.manager, new Date())).map((f) => f.id));
      expect(due.size).toBeGreaterThan(20);
      await fc.assert(
        fc.asyncProperty(actorArb, fc.integer({ min: 1, max: 40 }), async (a, pageSize) => {
          const actor = prop(a);
          const expected = canRead(actor).filter((id) => due.has(id));
          const seen: string[] = [];
          for (let page = 1; ; page++) {
            const result = await disposition.due(actor, { page, pageSize });
            expect(result.total).toBe(expected.length);
            seen.push(...result.items.map((i) => i.documentId));
            if (result.items.length < pageSize) break;
          }
          expect(sorted(seen)).toEqual(expected);
        }),
        { numRuns: 60, seed: 13 },
      );
    });
  });
});
