import { randomBytes, randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { AbilityFactory } from '@kura/access';
import { abilityToSql, DOCUMENT_SQL_FIELDS, documentSubject, DocumentsRepository, DocumentEntity } from '@kura/documents';
import { Designation, Role, type Actor } from '@kura/identity';
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
});
