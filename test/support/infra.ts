import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { S3Settings } from '@kura/config';

export const INFRA_FILE_ENV = 'KURA_TEST_INFRA_FILE';

export interface TestInfra {
  dir: string;
  databaseUrl: string;
  s3: S3Settings;
}

export function testInfra(): TestInfra {
  const file = process.env[INFRA_FILE_ENV];
  if (!file) throw new Error('the e2e global setup did not run');
  return JSON.parse(readFileSync(file, 'utf8')) as TestInfra;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A fresh, empty database on the shared test cluster; returns its URL. */
export async function createDatabase(infra = testInfra()): Promise<string> {
  const name = uniqueName('kura').replace('-', '_');
  const admin = new Client({ connectionString: infra.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(infra.databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
