import { createPublicKey } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { verifyEvidenceBundle } from '@kura/audit';
import { describeError } from '@kura/common';
import { CommandSpec, EXIT } from './command';

/** A PEM file or the JSON answer of GET /keys/public ({publicKeyPem}). */
async function readPublicKey(file: string): Promise<string> {
  const text = await readFile(file, 'utf8');
  if (!text.trimStart().startsWith('{')) return text;
  const parsed = JSON.parse(text) as { publicKeyPem?: unknown };
  if (typeof parsed.publicKeyPem !== 'string') throw new Error(`${file} has no publicKeyPem`);
  return parsed.publicKeyPem;
}

/** `audit verify-bundle`: offline, it reads only the bundle and the key it is given. */
export const auditVerifyBundleCommands: CommandSpec[] = [
  {
    name: 'audit verify-bundle',
    args: ['<bundle.tar>'],
    summary: 'Verifies an audit evidence bundle (GET /api/v1/audit/evidence) offline: no database, no network.',
    details: [
      'Every event hash recomputed and chained, contiguity, checkpoint signatures, file hashes, manifest signature.',
      'With --public-key (obtained out of band: GET /api/v1/keys/public) the manifest must be signed by that key;',
      "without it the bundle's own keys are used and the verdict says so.",
      'Exit status 0: valid; 1: invalid; 2: usage error or unreadable key.',
    ],
    options: {
      'public-key': { type: 'string', value: '<key.pem | keys.json>', description: 'the trusted Ed25519 public key (PEM) or the GET /keys/public answer' },
    },
    async run({ values, positionals, io }) {
      const file = positionals[0];
      const keys: string[] = [];
      try {
        if (typeof values['public-key'] === 'string') keys.push(await readPublicKey(values['public-key']));
        for (const pem of keys) if (createPublicKey(pem).asymmetricKeyType !== 'ed25519') throw new Error('--public-key must be an Ed25519 public key');
        await access(file);
      } catch (err) {
        io.err(`Cannot read input: ${describeError(err)}`);
        return EXIT.usage;
      }
      let verdict;
      try {
        verdict = await verifyEvidenceBundle(createReadStream(file), keys);
      } catch (err) {
        // Not a tar archive, or truncated: nothing can be vouched for.
        io.out(`INVALID: the bundle cannot be read (${describeError(err)})`);
        return EXIT.failed;
      }
      const m = verdict.manifest;
      if (!verdict.valid) {
        io.out(`INVALID: ${verdict.problems[0]}`);
        for (const p of verdict.problems.slice(1)) io.out(`  also: ${p}`);
        return EXIT.failed;
      }
      const range = m?.range ? `events ${m.range.firstSeq}–${m.range.lastSeq}` : 'no events';
      io.out(
        `VALID: ${range}, ${verdict.eventsChecked} event(s) recomputed, ${verdict.checkpointsChecked} checkpoint(s) verified, ` +
          `manifest signed with Ed25519 key ${m?.keyId}${verdict.keyTrusted ? ' (trusted)' : ''}`,
      );
      io.out(m?.complete ? 'Complete: every event of the range is present and chained.' : `NOT COMPLETE: ${m?.statement ?? ''}`);
      if (!verdict.keyTrusted) io.out(`Keys were taken from the bundle itself: compare ${m?.keyId} with GET /api/v1/keys/public or your records, or pass --public-key.`);
      return EXIT.ok;
    },
  },
];
