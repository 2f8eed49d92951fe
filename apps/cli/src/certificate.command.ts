import { readFile } from 'node:fs/promises';
import { describeError } from '@kura/common';
import { verifyCertificateText } from '@kura/retention';
import { CommandSpec, EXIT } from './command';

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

export const certificateCommands: CommandSpec[] = [
  {
    name: 'certificate verify',
    args: ['<certificate.json>'],
    summary: 'Verifies a deletion certificate offline with the service public key (GET /api/v1/keys/public).',
    details: ['Exit status 0: valid; 1: invalid; 2: usage error or unreadable input.'],
    options: {
      'public-key': { type: 'string', value: '<key.pem | keys.json>', description: 'the Ed25519 public key (PEM) or the GET /keys/public answer' },
      'allow-reformatted': { type: 'boolean', description: 'accept a re-serialised (not byte-identical) certificate' },
    },
    validate: (values) => (typeof values['public-key'] === 'string' ? undefined : 'missing --public-key'),
    async run({ values, positionals, io }) {
      let text: string;
      let key: string;
      try {
        text = await readFile(positionals[0], 'utf8');
        key = await readPublicKey(values['public-key'] as string);
      } catch (err) {
        io.err(`Cannot read input: ${describeError(err)}`);
        return EXIT.usage;
      }
      // Strict by default: the issued file is canonical JSON, so any changed byte fails.
      const result = verifyCertificateText(text, key, { strict: values['allow-reformatted'] !== true });
      if (!result.valid) {
        io.out(`INVALID: ${result.reason}`);
        return EXIT.failed;
      }
      io.out(`VALID: certificate ${result.certificateId} (batch ${result.batchId}, ${result.records} record(s)) signed with Ed25519 key ${result.keyId}`);
      return EXIT.ok;
    },
  },
];
