// Checks an extracted Kura audit evidence bundle with nothing but Node.js (no Kura code):
//   tar -xf audit-evidence-….tar -C bundle && node verify-evidence.mjs bundle kura-public-key.pem
// Exit 0 when valid, 1 otherwise. See docs/security.md, "Evidence bundles".
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, trustedPem] = process.argv.slice(2);
const read = (f) => readFileSync(join(dir, f));
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const problems = [];
const fail = (p) => problems.push(p);
// RFC 8785 for JSON values as JSON.parse returns them: keys sorted by UTF-16 code units.
const jcs = (v) => v === null || typeof v !== 'object' ? JSON.stringify(v)
  : Array.isArray(v) ? `[${v.map(jcs).join(',')}]`
  : `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
const ed25519 = (pem, data, sig) => verify(null, data, createPublicKey(pem), sig);

const manifestBytes = read('manifest.json');
const m = JSON.parse(manifestBytes);
const trusted = readFileSync(trustedPem, 'utf8');
if (!ed25519(trusted, manifestBytes, read('manifest.sig'))) fail('manifest signature does not verify with the trusted key');
for (const f of m.files) if (sha256(read(f.path)) !== f.sha256) fail(`${f.path}: SHA-256 differs from the manifest`);

// One field: 32-bit big-endian length (-1 for null), then the bytes.
const field = (b) => { const n = Buffer.alloc(4); n.writeInt32BE(b === null ? -1 : b.length); return b === null ? [n] : [n, b]; };
const int64 = (v) => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(v)); return b; };
const text = (s) => (s === null ? null : Buffer.from(s, 'utf8'));
const encode = (e) => Buffer.concat([
  int64(e.seq), int64((BigInt(Date.parse(e.at)) - 946684800000n) * 1000n),
  e.actorId === null ? null : Buffer.from(e.actorId.replaceAll('-', ''), 'hex'),
  ...[e.actorName, e.action, e.targetType, e.targetId, e.outcome, e.clientAddress, e.userAgent, e.requestId, jcs(e.details), e.prevHash].map(text),
].flatMap(field));

const hashAt = new Map();
let prev = null;
let count = 0;
for (const line of read('events.jsonl').toString('utf8').split('\n').filter(Boolean)) {
  const e = JSON.parse(line);
  count++;
  const h = sha256(encode(e));
  if (h !== e.hash) fail(`event ${e.seq}: hash does not match its content`);
  if (prev && m.complete && e.seq !== prev.seq + 1) fail(`event ${e.seq}: expected ${prev.seq + 1} (missing or reordered)`);
  if (prev && e.seq === prev.seq + 1 && e.prevHash !== prev.hash) fail(`event ${e.seq}: does not link to ${prev.seq}`);
  if (!prev && m.complete && (e.seq !== m.range.firstSeq || e.prevHash !== m.range.firstPrevHash)) fail('first event is not the signed range start');
  hashAt.set(String(e.seq), h);
  prev = e;
}
if (count !== m.counts.events) fail(`manifest counts ${m.counts.events} events, found ${count}`);
if (m.complete && m.range && (prev?.seq !== m.range.lastSeq || prev?.hash !== m.range.lastHash)) fail('last event is not the signed range end');

for (const line of read('checkpoints.jsonl').toString('utf8').split('\n').filter(Boolean)) {
  const c = JSON.parse(line);
  const payload = Buffer.from(jcs({ seq: c.seq, hash: c.hash, at: c.at }), 'utf8');
  if (!ed25519(read(`keys/${c.keyId}.pub.pem`), payload, Buffer.from(c.signature, 'base64'))) fail(`checkpoint ${c.seq}: bad signature`);
  if (hashAt.has(c.seq) && hashAt.get(c.seq) !== c.hash) fail(`checkpoint ${c.seq}: chain differs from what was signed`);
}
console.log(problems.length ? `INVALID\n${problems.join('\n')}` : `VALID: ${count} events${m.complete ? ', complete range' : ', filtered (not complete)'}`);
process.exit(problems.length ? 1 : 0);
