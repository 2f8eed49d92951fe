import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DomainError } from '@kura/common';
import { DocumentsRepository, DocumentQueriesService } from '@kura/documents';
import { startTestApp, TestApp } from './support/app';
import { actor } from './support/documents';

/**
 * Lists at scale: `total` is exact up to a bound and then says "more than N" (counting every
 * match of a million-row table on each page would cost O(matches)); pages can be walked with
 * a keyset cursor (no OFFSET), stable under equal creation times.
 */
describe('document lists: bounded total and keyset pages', () => {
  let t: TestApp;
  let service: DocumentQueriesService;
  let repo: DocumentsRepository;
  const alice = actor({ departments: ['finance'], clearance: 3 });
  const visible: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    service = t.app.get(DocumentQueriesService);
    repo = t.app.get(DocumentsRepository);
    const ds = t.app.get(DataSource);
    // 7 finance documents alice sees (two pairs created at the same instant) and 3 legal ones she does not.
    const times = ['2026-01-01T00:00:01Z', '2026-01-01T00:00:02Z', '2026-01-01T00:00:02Z', '2026-01-01T00:00:03Z', '2026-01-01T00:00:04Z', '2026-01-01T00:00:04Z', '2026-01-01T00:00:05.123456Z'];
    const rows = [...times.map((at) => ['finance', at]), ['legal', '2026-01-01T00:00:02Z'], ['legal', '2026-01-01T00:00:03Z'], ['legal', '2026-01-01T00:00:06Z']];
    for (const [department, at] of rows) {
      const id = randomUUID();
      await ds.query(
        `INSERT INTO documents (id, title, kind, classification, department, owner_id, current_version, created_at, updated_at)
         VALUES ($1, $2, 'record', 1, $3, $4, 1, $5, $5)`,
        [id, `doc ${department} ${at}`, department, alice.id, at],
      );
      await ds.query(
        `INSERT INTO document_versions (id, document_id, number, size, sha256, media_type, original_filename, author_id, created_at, storage_key, kek_id, nonce_prefix, chunk_size)
         VALUES ($1, $2, 1, 4, repeat('a', 64), 'text/plain', 'a.txt', $3, $4, $5, 'k', '\\x0000000000000000', 65536)`,
        [randomUUID(), id, alice.id, at, `objects/${id}`],
      );
      if (department === 'finance') visible.push(id);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers an exact total up to the bound, and "more than the bound" past it', async () => {
    await expect(service.list(alice, {})).resolves.toMatchObject({ total: 7, totalExact: true });
    const bound = repo.listTotalBound;
    try {
      repo.listTotalBound = 5;
      await expect(service.list(alice, {})).resolves.toMatchObject({ total: 5, totalExact: false });
      repo.listTotalBound = 7;
      await expect(service.list(alice, {})).resolves.toMatchObject({ total: 7, totalExact: true });
    } finally {
      repo.listTotalBound = bound;
    }
  });

  it('walks every visible document once with the keyset cursor, newest first, ties broken by id', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await service.list(alice, { pageSize: 3, after });
      seen.push(...page.items.map((d) => d.id));
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    const all = await service.list(alice, { pageSize: 100 });
    expect(all.nextCursor).toBeNull();
    expect(seen).toEqual(all.items.map((d) => d.id));
    expect([...seen].sort()).toEqual([...visible].sort());
  });

  it('refuses a malformed cursor, and a cursor together with page, as validation errors', async () => {
    await expect(service.list(alice, { after: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ code: 'validation' });
    const first = await service.list(alice, { pageSize: 2 });
    await expect(service.list(alice, { after: first.nextCursor!, page: 2 })).rejects.toBeInstanceOf(DomainError);
  });
});
