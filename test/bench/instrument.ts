/**
 * Bench-only preload for the api process (`node -r dist/test/bench/instrument.js …`): counts
 * the SQL statements it sends (by first keyword) and the HTTP requests it makes to the object
 * store (by method), and writes the counts to `KURA_BENCH_COUNTS` on SIGUSR2. Nothing here
 * runs in production; the counts are what a create costs, read before and after a case.
 */
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { Client } from 'pg';

const out = process.env.KURA_BENCH_COUNTS;
if (out) {
  const sql: Record<string, number> = {};
  const s3: Record<string, number> = {};
  // Each statement by its first 70 characters: which statements a case sends.
  const texts: Record<string, number> = {};
  const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);

  const query = Client.prototype.query as (...args: unknown[]) => unknown;
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | null)?.text ?? '');
    bump(sql, (/^\s*(\w+)/.exec(text)?.[1] ?? '?').toUpperCase());
    bump(texts, text.replace(/\s+/g, ' ').trim().slice(0, 70));
    return query.apply(this, args);
  } as typeof Client.prototype.query;

  // Every store request goes through an http.Agent (the store's timeout agent): count there.
  const s3Port = process.env.S3_ENDPOINT ? new URL(process.env.S3_ENDPOINT).port : '';
  type AddRequest = (this: http.Agent, req: http.ClientRequest, options: { port?: number | string }) => void;
  const agent = http.Agent.prototype as unknown as { addRequest: AddRequest };
  const addRequest = agent.addRequest;
  agent.addRequest = function (req, options) {
    if (String(options.port) === s3Port) {
      const q = req.path.split('?')[1] ?? '';
      // The S3 call by its query: uploads (initiate), partNumber (part), uploadId (complete/abort).
      const kind = /(^|&)uploads(=|&|$)/.test(q) ? ' initiate' : /partNumber=/.test(q) ? ' part' : /uploadId=/.test(q) ? ' complete/abort' : /location/.test(q) ? ' location' : '';
      bump(s3, `${req.method}${kind}`);
    }
    addRequest.call(this, req, options);
  };

  process.on('SIGUSR2', () => writeFileSync(out, JSON.stringify({ sql, s3, texts })));
}
