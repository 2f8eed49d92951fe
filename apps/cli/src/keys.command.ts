import * as os from 'node:os';
import type { INestApplicationContext } from '@nestjs/common';
import { AuditService } from '@kura/audit';
import { KuraConfig } from '@kura/config';
import { KeyRing } from '@kura/crypto';
import { DocumentsRepository, KeyRotationService } from '@kura/documents';
import { Signer } from '@kura/signing';

export const KEYS_USAGE = `usage: kura keys <command>
  status                 active KEK, KEK files present, data keys wrapped under each
  rotate [--batch N]     new active KEK, then re-wrap every data key under it (content untouched)
  rewrap [--batch N]     resume re-wrapping onto the active KEK (after an interrupted rotation)
  retire <kekId>         delete a KEK file once no data key is wrapped under it
  rotate-signing         new Ed25519 signing key; the old public key is kept to verify what it signed
                         (restart the api and worker afterwards to sign with the new key)`;

function batchSize(args: string[]): number {
  const i = args.indexOf('--batch');
  if (i < 0) return 500;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new Error('--batch must be a whole number from 1 to 10000');
  return n;
}

/** `npm run cli -- keys …`: KEK rotation and retirement, audited under the operator's OS user. */
export async function runKeysCommand(args: string[], app: INestApplicationContext, out: (line: string) => void): Promise<number> {
  const operator = `cli:${os.userInfo().username}`;
  const rotation = app.get(KeyRotationService);
  const ring = app.get(KeyRing);
  switch (args[0]) {
    case 'status': {
      const counts = await app.get(DocumentsRepository).countByKek();
      out(JSON.stringify({ active: ring.activeKekId(), keks: ring.kekIds().map((id) => ({ id, dataKeys: counts[id] ?? 0 })) }, null, 2));
      return 0;
    }
    case 'rotate':
      out(JSON.stringify(await rotation.rotate(operator, batchSize(args)), null, 2));
      return 0;
    case 'rewrap': {
      const result = await rotation.rewrapAll(operator, batchSize(args));
      out(JSON.stringify(result, null, 2));
      return result.failed ? 1 : 0;
    }
    case 'retire':
      if (!args[1]) throw new Error('retire needs a KEK id');
      await rotation.retire(operator, args[1]);
      out(`retired ${args[1]}`);
      return 0;
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
      return 0;
    }
    default:
      out(KEYS_USAGE);
      return 2;
  }
}
