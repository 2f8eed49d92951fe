import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { INestApplicationContext } from '@nestjs/common';
import { Clock } from '@kura/common';
import type { S3Settings } from '@kura/config';
import { Role, type Actor } from '@kura/identity';
import { DispositionService, SeriesService, verifyCertificateText } from '@kura/retention';
import { ObjectStore } from '@kura/storage';
import { createDatabase, testInfra, uniqueName } from '../support/infra';
import { approveAndExecute, insertDocument, pemSigner, startRetentionContext, writeSigningKey } from '../support/retention-context';

const YEAR = 365 * 86_400_000;
const officer = (name: string): Actor => ({ id: randomUUID(), username: name, roles: [Role.RecordsOfficer], clearance: 3, departments: [], designations: [], sessionId: randomUUID() });

/**
 * Issue 10 finding 2: an upload that never committed leaves ciphertext under the
 * document's prefix. Certified destruction deletes it too, and the certificate says so.
 */
describe('disposition of a document with an orphaned object', () => {
  let ctx: INestApplicationContext;
  let store: ObjectStore;
  let s3: S3Settings;
  let databaseUrl: string;
  let signer: ReturnType<typeof pemSigner>;
  const clock = new Clock();

  beforeAll(async () => {
    databaseUrl = await createDatabase();
    s3 = { ...testInfra().s3, bucket: uniqueName('kura') };
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    signer = pemSigner(pem);
    ctx = await startRetentionContext({ databaseUrl, s3, keysDir: await writeSigningKey(pem), clock });
    store = ctx.get(ObjectStore);
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('deletes every object under the prefix, orphans included, and certifies the empty prefix', async () => {
    const a = officer('officer-a');
    const b = officer('officer-b');
    const series = await ctx.get(SeriesService).create(a, { code: 'AP-1', name: 'Invoices', years: 1, trigger: 'created', disposition: 'destroy', citation: '法人税法施行規則 第59条' });
    const doc = await insertDocument(databaseUrl, store, { title: 'Invoice 42', seriesId: series.id, createdAt: clock.now(), versions: 1 });
    const orphan = `documents/${doc.id}/${randomUUID()}`;
    await store.put(orphan, Readable.from([randomBytes(2048)]));
    clock.advance(YEAR + 2 * 86_400_000);

    const due = ctx.get(DispositionService);
    const proposal = await due.propose(a, { documentIds: [doc.id] });
    expect(await approveAndExecute(ctx, b, proposal.id)).toMatchObject({ state: 'completed' });

    const left: string[] = [];
    for await (const o of store.list(`documents/${doc.id}/`)) left.push(o.key);
    expect(left).toEqual([]);

    const text = (await due.certificate(b, proposal.id, 'json')).body.toString('utf8');
    expect(verifyCertificateText(text, signer.publicKeyPem, { strict: true })).toMatchObject({ valid: true });
    const record = JSON.parse(text).certificate.records[0];
    expect(record.storagePrefix).toEqual({
      prefix: `documents/${doc.id}/`,
      otherObjectsDeleted: 1,
      verification: { method: 'Full', check: 'object-store-list', result: 'empty', passed: true, verifiedAt: expect.any(String) },
    });
  });
});
