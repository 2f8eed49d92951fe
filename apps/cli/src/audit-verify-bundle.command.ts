import { createPublicKey } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { verifyEvidenceBundle } from '@kura/audit';
import type { CliIo } from './cli';

export const AUDIT_VERIFY_BUNDLE_USAGE = [
  '  kura audit verify-bundle <bundle.tar> [--public-key <key.pem | keys.json>]...',
  '      Verifies an audit evidence bundle (GET /api/v1/audit/evidence) offline: no database, no network.',
  '      Every event hash recomputed and chained, contiguity, checkpoint signatures, manifest signature.',
  '      --public-key (repeatable): keys obtained out of band (GET /api/v1/keys/public); the manifest must be',
  '      signed by one of them. Without it the bundle\'s own keys are used and the verdict says so.',
  '      Exit code 0: valid; 1: invalid; 2: usage error.',
].join('\n');

/** A PEM file or the JSON answer of GET /keys/public ({publicKeyPem}). */
async function readPublicKey(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  if (!text.trimStart().startsWith('{')) return text;
  const parsed = JSON.parse(text) as { publicKeyPem?: unknown };
  if (typeof parsed.publicKeyPem !== 'string') throw new Error(`${file} has no publicKeyPem`);
  return parsed.publicKeyPem;
}

/** `audit verify-bundle`: reads only the file and the keys it is given. */
export async function auditVerifyBundleCommand(args: string[], io: CliIo): Promise<number> {
  let file: string;
  let keys: string[];
  try {
    const parsed = parseArgs({ args, allowPositionals: true, options: { 'public-key': { type: 'string', multiple: true } } });
    if (parsed.positionals.length !== 1) throw new Error('give exactly one bundle file');
    file = parsed.positionals[0];
    keys = await Promise.all((parsed.values['public-key'] ?? []).map(readPublicKey));
    for (const pem of keys) if (createPublicKey(pem).asymmetricKeyType !== 'ed25519') throw new Error('--public-key must be an Ed25519 public key');
    await access(file);
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\nUsage:\n${AUDIT_VERIFY_BUNDLE_USAGE}`);
    return 2;
  }
  let verdict;
  try {
    verdict = await verifyEvidenceBundle(createReadStream(file), keys);
  } catch (err) {
    // Not a tar archive, truncated, or a key that is not Ed25519: nothing can be vouched for.
    io.out(`INVALID: the bundle cannot be read (${err instanceof Error ? err.message : String(err)})`);
    return 1;
  }
  const m = verdict.manifest;
  if (!verdict.valid) {
    io.out(`INVALID: ${verdict.problems[0]}`);
    for (const p of verdict.problems.slice(1)) io.out(`  also: ${p}`);
    return 1;
  }
  const range = m?.range ? `events ${m.range.firstSeq}–${m.range.lastSeq}` : 'no events';
  io.out(
    `VALID: ${range}, ${verdict.eventsChecked} event(s) recomputed, ${verdict.checkpointsChecked} checkpoint(s) verified, ` +
      `manifest signed with Ed25519 key ${m?.keyId}${verdict.keyTrusted ? ' (trusted)' : ''}`,
  );
  io.out(m?.complete ? 'Complete: every event of the range is present and chained.' : `NOT COMPLETE: ${m?.statement ?? ''}`);
  if (!verdict.keyTrusted) io.out(`Keys were taken from the bundle itself: compare ${m?.keyId} with GET /api/v1/keys/public or your records, or pass --public-key.`);
  return 0;
}
