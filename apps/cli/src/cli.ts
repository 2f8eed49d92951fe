import { readFile } from 'node:fs/promises';
import { verifyCertificateText } from '@kura/retention';
import { AUDIT_VERIFY_BUNDLE_USAGE, auditVerifyBundleCommand } from './audit-verify-bundle.command';
import { seedFilePlanCommand } from './seed-file-plan.command';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: Record<string, string | undefined>;
}

export const USAGE = [
  'Usage:',
  '  kura certificate verify <certificate.json> --public-key <key.pem | keys.json> [--allow-reformatted]',
  '      Verifies a deletion certificate offline with the service public key (GET /api/v1/keys/public).',
  '      Exit code 0: valid; 1: invalid; 2: usage error.',
  '  kura retention seed-file-plan',
  '      Loads the shipped Japanese seed file plan (docs/retention.md) into the configured database.',
  AUDIT_VERIFY_BUNDLE_USAGE,
].join('\n');

/** A PEM file, a PEM string, or the JSON answer of GET /keys/public ({publicKeyPem}). */
async function readPublicKey(arg: string): Promise<string> {
  if (arg.includes('-----BEGIN')) return arg;
  const text = await readFile(arg, 'utf8');
  if (text.trimStart().startsWith('{')) {
    const parsed = JSON.parse(text) as { publicKeyPem?: unknown };
    if (typeof parsed.publicKeyPem !== 'string') throw new Error(`${arg} has no publicKeyPem`);
    return parsed.publicKeyPem;
  }
  return text;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`${name}=`));
  return inline?.slice(name.length + 1);
}

async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const file = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--public-key'));
  const keyArg = option(args, '--public-key');
  if (!file || !keyArg) {
    io.err(USAGE);
    return 2;
  }
  let text: string;
  let key: string;
  try {
    text = await readFile(file, 'utf8');
    key = await readPublicKey(keyArg);
  } catch (err) {
    io.err(`Cannot read input: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  // Strict by default: the issued file is canonical JSON, so any changed byte fails.
  const result = verifyCertificateText(text, key, { strict: !args.includes('--allow-reformatted') });
  if (!result.valid) {
    io.out(`INVALID: ${result.reason}`);
    return 1;
  }
  io.out(`VALID: certificate ${result.certificateId} (batch ${result.batchId}, ${result.records} record(s)) signed with Ed25519 key ${result.keyId}`);
  return 0;
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === 'certificate' && command === 'verify') return verifyCommand(rest, io);
  if (group === 'audit' && command === 'verify-bundle') return auditVerifyBundleCommand(rest, io);
  if (group === 'retention' && command === 'seed-file-plan') {
    return seedFilePlanCommand(io);
  }
  io.err(USAGE);
  return group === undefined || group === 'help' || group === '--help' ? 0 : 2;
}
