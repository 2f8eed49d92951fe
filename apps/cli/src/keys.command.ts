import { chmod, mkdir, readdir } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { KuraConfig } from '@kura/config';
import { KeyRing } from '@kura/crypto';
import { DocumentsRepository, KeyRotationService } from '@kura/documents';
import { Signer, SIGNING_KEY_FILE, SIGNING_PUBLIC_KEY_FILE } from '@kura/signing';
import { CommandContext, CommandSpec, EXIT } from './command';

const BATCH = { type: 'string', value: 'N', description: 'data keys re-wrapped per transaction (1–10000, default 500)' } as const;

function batchSize(args: string[] | CommandContext['values']): number {
  let raw: unknown;
  if (Array.isArray(args)) {
    const i = args.indexOf('--batch');
    raw = i < 0 ? undefined : args[i + 1];
  } else {
    raw = args.batch;
  }
  if (raw === undefined) return 500;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error('--batch must be a whole number from 1 to 10000');
  return n;
}

function validBatch(values: CommandContext['values']): string | undefined {
  try {
    batchSize(values);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

type Progress = ((p: { rewrapped: number; failed: number }) => void) | undefined;

/**
 * The key operations themselves, on a started application context. Arguments are already
 * validated and confirmed by the CLI runner (`runCli`); tests call this directly.
 */
export async function runKeysCommand(args: string[], app: INestApplicationContext, out: (line: string) => void, progress?: Progress): Promise<number> {
  const operator = `cli:${os.userInfo().username}`;
  const rotation = app.get(KeyRotationService);
  const ring = app.get(KeyRing);
  switch (args[0]) {
    case 'status': {
      const counts = await app.get(DocumentsRepository).countByKek();
      out(JSON.stringify({ active: ring.activeKekId(), keks: ring.kekIds().map((id) => ({ id, dataKeys: counts[id] ?? 0 })) }, null, 2));
      return EXIT.ok;
    }
    case 'rotate':
    case 'rewrap': {
      const size = batchSize(args);
      const result = args[0] === 'rotate' ? await rotation.rotate(operator, size, progress) : await rotation.rewrapAll(operator, size, progress);
      out(JSON.stringify(result, null, 2));
      // Partial failure is failure: an operator script must not carry on as if every key moved.
      return result.failed ? EXIT.failed : EXIT.ok;
    }
    case 'retire':
      if (!args[1]) throw new Error('retire needs a KEK id');
      await rotation.retire(operator, args[1]);
      out(`retired ${args[1]}`);
      return EXIT.ok;
    case 'rotate-signing': {
      const result = await Signer.rotate(app.get(KuraConfig).keysDir);
      await app.get(AuditService).record({
        actor: null,
        actorName: operator,
        action: 'signing-key.rotate',
        targetType: 'SigningKey',
        targetId: result.keyId,
        outcome: 'allowed',
        details: { retiredKeyId: result.retiredKeyId },
      });
      out(JSON.stringify(result, null, 2));
      return EXIT.ok;
    }
    default:
      out(`unknown keys command: ${args[0] ?? '(none)'}`);
      return EXIT.usage;
  }
}

/** A progress bar on a terminal, JSON lines otherwise (for logs and scripts). */
function progressReporter(ctx: CommandContext): Progress {
  return (p) => ctx.io.progress?.({ operation: 'rewrap', ...p });
}

async function onServices(ctx: CommandContext, args: string[]): Promise<number> {
  const app = await ctx.services();
  return runKeysCommand(args, app, (line) => ctx.io.out(line), progressReporter(ctx));
}

/** KEYS_DIR as configured, without requiring the rest of the configuration (keys init runs before anything else). */
function keysDirOf(ctx: CommandContext): string {
  const dir = ctx.values.dir;
  if (typeof dir === 'string') return path.resolve(dir);
  const env = ctx.io.env;
  return path.resolve(env.KEYS_DIR || path.join(env.VAR_DIR || './var', 'keys'));
}

/** `keys init`: production keys (a KEK and the Ed25519 signing key) created once, owner-only. */
async function initKeys(ctx: CommandContext): Promise<number> {
  const dir = keysDirOf(ctx);
  const existing = await readdir(dir).catch(() => [] as string[]);
  const kekFiles = await readdir(path.join(dir, 'kek')).catch(() => [] as string[]);
  if (existing.includes(SIGNING_KEY_FILE) || kekFiles.includes('ACTIVE')) {
    if (ctx.values['if-missing'] === true) {
      ctx.io.out(`${dir} already holds keys: nothing changed.`);
      return EXIT.ok;
    }
    ctx.io.err(`${dir} already holds keys: nothing changed (keys are never overwritten; use keys rotate / rotate-signing).`);
    return EXIT.failed;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is filtered by the umask and ignored for an existing directory.
  await chmod(dir, 0o700);
  const quiet = { warn: () => undefined, log: () => undefined };
  const ring = new KeyRing(dir, { production: false, logger: quiet });
  ring.init();
  await chmod(path.join(dir, 'kek'), 0o700);
  const signer = await Signer.load(dir, { generateIfMissing: true });
  ctx.io.out(
    JSON.stringify(
      {
        keysDir: dir,
        kekId: ring.activeKekId(),
        signingKeyId: signer.keyId,
        files: [`kek/${ring.activeKekId()}.key`, 'kek/ACTIVE', SIGNING_KEY_FILE, SIGNING_PUBLIC_KEY_FILE],
        note: 'Back this directory up outside the database host; without the KEK no document can be read.',
      },
      null,
      2,
    ),
  );
  return EXIT.ok;
}

export const keysCommands: CommandSpec[] = [
  {
    name: 'keys status',
    summary: 'Shows the active KEK, the KEK files present and how many data keys each wraps.',
    run: (ctx) => onServices(ctx, ['status']),
  },
  {
    name: 'keys init',
    summary: 'Creates production keys (a key-encryption key and the Ed25519 signing key) in KEYS_DIR, owner-only (0700/0600).',
    details: ['Never overwrites: fails when the directory already holds keys (or succeeds without change with --if-missing).'],
    options: {
      dir: { type: 'string', value: 'DIR', description: 'where to create the keys (default KEYS_DIR, else $VAR_DIR/keys)' },
      'if-missing': { type: 'boolean', description: 'exit 0 without change when keys already exist (container init steps)' },
    },
    run: initKeys,
  },
  {
    name: 'keys rotate',
    summary: 'Creates a new active KEK, then re-wraps every data key under it (content untouched).',
    options: { batch: BATCH },
    validate: validBatch,
    changes: (values) => `create a new active key-encryption key in KEYS_DIR and re-wrap every data key under it (batches of ${batchSize(values)})`,
    run: (ctx) => onServices(ctx, ['rotate', '--batch', String(batchSize(ctx.values))]),
  },
  {
    name: 'keys rewrap',
    summary: 'Resumes re-wrapping data keys onto the active KEK (after an interrupted rotation).',
    options: { batch: BATCH },
    validate: validBatch,
    changes: (values) => `re-wrap every data key not yet under the active key-encryption key (batches of ${batchSize(values)})`,
    run: (ctx) => onServices(ctx, ['rewrap', '--batch', String(batchSize(ctx.values))]),
  },
  {
    name: 'keys retire',
    args: ['<kekId>'],
    summary: 'Deletes a KEK file once no data key is wrapped under it.',
    changes: (_values, [kekId]) => `delete the key-encryption key file ${kekId} from KEYS_DIR (refused while data keys use it)`,
    run: (ctx) => onServices(ctx, ['retire', ctx.positionals[0]]),
  },
  {
    name: 'keys rotate-signing',
    summary: 'Replaces the Ed25519 signing key; the old public key is kept to verify what it signed.',
    details: ['Restart the api and worker afterwards to sign with the new key.'],
    changes: () => `replace the Ed25519 signing key in KEYS_DIR (the old private key is overwritten; its public key moves to ${'signing-retired/'})`,
    run: (ctx) => onServices(ctx, ['rotate-signing']),
  },
];
