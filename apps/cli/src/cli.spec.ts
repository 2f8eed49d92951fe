import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildCertificate, serializeSignedCertificate, signCertificate } from '@kura/retention';
import { sampleFacts, testSigner } from '../../../libs/retention/src/certificate/certificate.fixture';
import { runCli } from './cli';

describe('kura certificate verify', () => {
  let dir: string;
  const signer = testSigner();
  const file = serializeSignedCertificate(signCertificate(buildCertificate(sampleFacts()), signer));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'kura-cli-'));
    await writeFile(path.join(dir, 'cert.json'), file);
    await writeFile(path.join(dir, 'key.pem'), signer.publicKeyPem);
    await writeFile(path.join(dir, 'keys.json'), JSON.stringify({ keyId: signer.keyId, algorithm: 'Ed25519', publicKeyPem: signer.publicKeyPem }));
    await writeFile(path.join(dir, 'other.pem'), testSigner().publicKeyPem);
    const tampered = Buffer.from(file);
    const at = file.indexOf('officer-b');
    tampered[at] = 'O'.charCodeAt(0);
    await writeFile(path.join(dir, 'tampered.json'), tampered);
    await writeFile(path.join(dir, 'pretty.json'), JSON.stringify(JSON.parse(file), null, 2));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
    return { code, out, err };
  }

  it('accepts the issued certificate with the PEM or the GET /keys/public answer', async () => {
    const a = await cli('certificate', 'verify', path.join(dir, 'cert.json'), '--public-key', path.join(dir, 'key.pem'));
    expect(a.code).toBe(0);
    expect(a.out.join('\n')).toMatch(/^VALID: certificate 6f1c2d4e-.* 2 record\(s\).*test-key-1/);
    const b = await cli('certificate', 'verify', '--public-key', path.join(dir, 'keys.json'), path.join(dir, 'cert.json'));
    expect(b.code).toBe(0);
  });

  it('rejects a copy with one changed byte, and a different key', async () => {
    const a = await cli('certificate', 'verify', path.join(dir, 'tampered.json'), '--public-key', path.join(dir, 'key.pem'));
    expect(a).toMatchObject({ code: 1, out: [expect.stringMatching(/^INVALID: the signature does not match/)] });
    const b = await cli('certificate', 'verify', path.join(dir, 'cert.json'), '--public-key', path.join(dir, 'other.pem'));
    expect(b.code).toBe(1);
  });

  it('rejects a reformatted copy unless told to allow it', async () => {
    expect((await cli('certificate', 'verify', path.join(dir, 'pretty.json'), '--public-key', path.join(dir, 'key.pem'))).code).toBe(1);
    expect((await cli('certificate', 'verify', path.join(dir, 'pretty.json'), '--public-key', path.join(dir, 'key.pem'), '--allow-reformatted')).code).toBe(0);
  });

  it('answers usage errors with exit code 2', async () => {
    expect((await cli('certificate', 'verify', path.join(dir, 'cert.json'))).code).toBe(2);
    expect((await cli('certificate', 'verify', path.join(dir, 'missing.json'), '--public-key', path.join(dir, 'key.pem'))).code).toBe(2);
    expect((await cli('nonsense')).code).toBe(2);
  });
});
