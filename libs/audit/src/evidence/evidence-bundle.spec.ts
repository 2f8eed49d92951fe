import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { canonicalJson } from '@kura/common';
import { eventHash, GENESIS_HASH } from '../audit-hash';
import type { AuditEventView } from '../audit-query.types';
import { canonicalManifest, COMPLETE_STATEMENT, EvidenceManifest, keyFile, sha256Hex, verifyEvidenceBundle } from './evidence-bundle';

type Entries = Array<[string, Buffer]>;

function keyPair(): { privateKey: KeyObject; pem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16) };
}

function events(n: number): AuditEventView[] {
  const out: AuditEventView[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = {
      seq: String(seq), at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)), actorId: null, actorName: 'system', action: 'test.event',
      targetType: 'Document', targetId: `doc-${seq}`, outcome: 'allowed' as const, clientAddress: null, userAgent: null, requestId: null, details: { seq, 名前: '監査' }, prevHash,
    };
    const hash = eventHash(e);
    out.push({ ...e, seq, at: e.at.toISOString(), hash });
    prevHash = hash;
  }
  return out;
}

/** A bundle built by hand, exactly as the service lays it out. */
function bundle(key = keyPair(), n = 3): { entries: Entries; key: ReturnType<typeof keyPair> } {
  const evs = events(n);
  const cpPayload = { seq: '2', hash: evs[1].hash, at: '2026-01-01T00:01:00.000Z' };
  const checkpoint = { ...cpPayload, keyId: key.keyId, algorithm: 'Ed25519', signature: sign(null, Buffer.from(canonicalJson(cpPayload)), key.privateKey).toString('base64') };
  const files: Entries = [
    [keyFile(key.keyId), Buffer.from(key.pem)],
    ['checkpoints.jsonl', Buffer.from(`${JSON.stringify(checkpoint)}\n`)],
    ['events.jsonl', Buffer.from(evs.map((e) => `${JSON.stringify(e)}\n`).join(''))],
  ];
  const manifest: EvidenceManifest = {
    format: 'kura-audit-evidence/1', generatedAt: '2026-01-02T00:00:00.000Z', generatedBy: { id: 'u', username: 'audrey' }, keyId: key.keyId, algorithm: 'Ed25519',
    requested: { from: null, to: null, fromSeq: null, toSeq: null },
    range: { firstSeq: 1, lastSeq: n, firstPrevHash: GENESIS_HASH, lastHash: evs[n - 1].hash },
    filter: null, complete: true, statement: COMPLETE_STATEMENT, counts: { events: n, checkpoints: 1, keys: 1 },
    files: files.map(([path, bytes]) => ({ path, size: bytes.length, sha256: sha256Hex(bytes) })),
  };
  const manifestBytes = Buffer.from(canonicalManifest(manifest));
  return { entries: [['manifest.json', manifestBytes], ['manifest.sig', sign(null, manifestBytes, key.privateKey)], ...files], key };
}

async function tar(entries: Entries): Promise<Readable> {
  const p = pack();
  for (const [name, bytes] of entries) p.entry({ name, size: bytes.length }, bytes);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Readable.from([Buffer.concat(chunks)]);
}

describe(verifyEvidenceBundle.name, () => {
  it('accepts a well-formed bundle with nothing but the file and a trusted key (no database, no network)', async () => {
    const { entries, key } = bundle();
    await expect(verifyEvidenceBundle(await tar(entries), [key.pem])).resolves.toMatchObject({ valid: true, problems: [], eventsChecked: 3, checkpointsChecked: 1, keyTrusted: true });
  });

  it('accepts the entries in another order (an auditor may repack the archive)', async () => {
    const { entries, key } = bundle();
    await expect(verifyEvidenceBundle(await tar([...entries].reverse()), [key.pem])).resolves.toMatchObject({ valid: true });
  });

  it('refuses extra, duplicate and missing entries', async () => {
    const { entries, key } = bundle();
    const extra = await verifyEvidenceBundle(await tar([...entries, ['notes.txt', Buffer.from('hi')]]), [key.pem]);
    expect(extra.problems).toContain('unexpected archive entry "notes.txt"');
    const dup = await verifyEvidenceBundle(await tar([...entries, entries[4]]), [key.pem]);
    expect(dup.problems).toContain('unexpected archive entry "events.jsonl" (duplicate)');
    const noSig = await verifyEvidenceBundle(await tar(entries.filter(([n]) => n !== 'manifest.sig')), [key.pem]);
    expect(noSig).toMatchObject({ valid: false, problems: ['the bundle has no manifest.sig'] });
    const noManifest = await verifyEvidenceBundle(await tar(entries.slice(1)), [key.pem]);
    expect(noManifest).toMatchObject({ valid: false, problems: ['the bundle has no manifest.json'] });
  });

  it('refuses a forged checkpoint: its signature fails and the recomputed chain differs from it', async () => {
    const { entries, key } = bundle();
    const cp = JSON.parse(entries[3][1].toString()) as { hash: string };
    const forged = Buffer.from(`${JSON.stringify({ ...cp, hash: 'f'.repeat(64) })}\n`);
    const out = await verifyEvidenceBundle(await tar(entries.map(([n, b]) => [n, n === 'checkpoints.jsonl' ? forged : b])), [key.pem]);
    expect(out.problems).toEqual(expect.arrayContaining(['checkpoint 2 has an invalid signature (forged, altered, or key ' + key.keyId + ' missing)', 'event 2 differs from signed checkpoint 2: the chain was rewritten']));
  });

  it('refuses a bundle signed by a key the auditor does not trust', async () => {
    const { entries } = bundle();
    const out = await verifyEvidenceBundle(await tar(entries), [keyPair().pem]);
    expect(out.valid).toBe(false);
    expect(out.problems[0]).toMatch(/which is not one of the trusted keys/);
  });
});
