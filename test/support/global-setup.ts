import { mkdtemp, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
// globalSetup runs outside Jest's module map: relative imports only.
import { JsonLogger } from '../../libs/common/src/json-logger';
import { startEmbeddedPostgres } from '../../libs/embedded/src/embedded-postgres';
import { startEmbeddedS3 } from '../../libs/embedded/src/embedded-s3';
import { INFRA_FILE_ENV, TestInfra } from './infra';

/** One PostgreSQL and one s3rver per test run; each test file makes its own database and bucket. */
export default async function globalSetup(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-test-'));
  const logger = new JsonLogger('error');
  const pg = await startEmbeddedPostgres(path.join(dir, 'postgres'), logger, { persistent: false });
  const s3 = await startEmbeddedS3(path.join(dir, 'objects'), 'kura-test', 'us-east-1');
  const infra: TestInfra = { dir, databaseUrl: pg.url, s3: s3.settings };
  const file = path.join(dir, 'infra.json');
  await writeFile(file, JSON.stringify(infra));
  process.env[INFRA_FILE_ENV] = file;
  (globalThis as Record<string, unknown>).__kuraInfra = { pg, s3, dir };
}
