import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { INestApplicationContext } from '@nestjs/common';
import { Clock } from '@kura/common';
import type { S3Settings } from '@kura/config';
import { Role, type Actor } from '@kura/identity';
import { FixityService, RetentionSweepService, SeriesService, VersionDigester } from '@kura/retention';
import { ObjectStore } from '@kura/storage';
import { createDatabase, testInfra, uniqueName } from './support/infra';
import { insertDocument, sql, startRetentionContext, writeSigningKey } from './support/retention-context';

const YEAR = 365 * 86_400_000;

describe('retention worker jobs', () => {
  let databaseUrl: string;
  let s3: S3Settings;
  let one: INestApplicationContext;
  let two: INestApplicationContext;
  let store: ObjectStore;
  const clock = new Clock();
  const officer: Actor = { id: randomUUID(), username: 'officer', roles: [Role.RecordsOfficer], clearance: 3, departments: [], designations: [], sessionId: randomUUID() };

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    s3 = { ...testInfra().s3, bucket: uniqueName('kura') };
    const keysDir = await writeSigningKey(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    // Stand-in for the documents reader: the fixture objects are the plaintext.
    const storeRef: { current?: ObjectStore } = {};
    const digester: VersionDigester = {
      async sha256(versionId) {
        const [v] = await sql<{ storage_key: string }>(databaseUrl, `SELECT storage_key FROM document_versions WHERE id = $1`, [versionId]);
        const hash = createHash('sha256');
        for await (const chunk of await storeRef.current!.get(v.storage_key)) hash.update(chunk as Buffer);
        return hash.digest('hex');
      },
    };
    one = await startRetentionContext({ databaseUrl, s3, keysDir, clock, digester });
    two = await startRetentionContext({ databaseUrl, s3, keysDir, clock, digester });
    store = one.get(ObjectStore);
    storeRef.current = store;
  });
  afterAll(async () => {
    await one.close();
    await two.close();
  });

  it('the due sweep audits retention.due once per document, even with two instances at once', async () => {
    const seriesId = (await one.get(SeriesService).create(officer, { code: 'SWEEP-1', name: 's', years: 1, trigger: 'created', disposition: 'destroy', citation: 'c' })).id;
    const docs = [];
    for (let i = 0; i < 5; i++) docs.push(await insertDocument(databaseUrl, store, { title: `d${i}`, seriesId, createdAt: clock.now() }));
    expect(await one.get(RetentionSweepService).sweep()).toEqual({ noticed: 0 });
    clock.advance(YEAR + 86_400_000);
    const [a, b] = await Promise.all([one.get(RetentionSweepService).sweep(), two.get(RetentionSweepService).sweep()]);
    expect(a.noticed + b.noticed).toBe(5);
    const rows = await sql<{ target_id: string; actor_name: string; details: Record<string, unknown> }>(databaseUrl, `SELECT target_id, actor_name, details FROM audit_events WHERE action = 'retention.due' ORDER BY target_id`);
    expect(rows.map((r) => r.target_id).sort()).toEqual(docs.map((d) => d.id).sort());
    expect(rows[0]).toMatchObject({ actor_name: 'system', details: expect.objectContaining({ series: 'SWEEP-1', reason: expect.stringContaining('creation') }) });
    expect(await one.get(RetentionSweepService).sweep()).toEqual({ noticed: 0 });
  });

  it('fixity re-reads versions, records integrity.failed for a changed object, and instances share the work', async () => {
    const seriesId = (await one.get(SeriesService).create(officer, { code: 'FIX-1', name: 'f', years: 50, trigger: 'created', disposition: 'destroy', citation: 'c' })).id;
    const doc = await insertDocument(databaseUrl, store, { title: 'fixity', seriesId, createdAt: clock.now(), versions: 3 });
    const [total] = await sql<{ n: number }>(databaseUrl, `SELECT count(*)::int AS n FROM document_versions WHERE wrapped_key IS NOT NULL`);

    const first = await one.get(FixityService).run(0);
    expect(first).toEqual({ checked: total.n, failed: 0 });

    // Silent corruption of one stored object.
    await store.put(doc.objectKeys[1], Readable.from([Buffer.from('bit rot')]));
    const [x, y] = await Promise.all([one.get(FixityService).run(Math.ceil(total.n / 2)), two.get(FixityService).run(Math.ceil(total.n / 2))]);
    // Disjoint claims: together they cover every version once.
    expect(x.checked + y.checked).toBe(total.n);
    expect(x.failed + y.failed).toBe(1);
    const failed = await sql<{ target_id: string; outcome: string; details: Record<string, unknown> }>(databaseUrl, `SELECT target_id, outcome, details FROM audit_events WHERE action = 'integrity.failed'`);
    expect(failed).toEqual([{ target_id: doc.id, outcome: 'failed', details: expect.objectContaining({ version: 2, reason: 'sha256 mismatch', expectedSha256: doc.sha256s[1] }) }]);
    expect(await sql(databaseUrl, `SELECT ok FROM fixity_checks f JOIN document_versions v ON v.id = f.version_id WHERE v.storage_key = $1`, [doc.objectKeys[1]])).toEqual([{ ok: false }]);

    // A missing object is a failure too, never a crash of the job.
    await store.delete(doc.objectKeys[2]);
    const third = await one.get(FixityService).run(0);
    expect(third.failed).toBe(2);
  });
});
