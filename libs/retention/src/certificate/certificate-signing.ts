import { createHash, createPublicKey, KeyObject, verify } from 'node:crypto';
import { canonicalJson } from '@kura/common';
import { CertificateSigner, DeletionCertificate, SIGNATURE_ALGORITHM, SignedCertificate } from './certificate.model';

/** The exact bytes the signature covers: RFC 8785 canonical JSON of `certificate`. */
export function certificateBytes(certificate: DeletionCertificate): Buffer {
  return Buffer.from(canonicalJson(certificate), 'utf8');
}

export function certificateDigest(certificate: DeletionCertificate): string {
  return createHash('sha256').update(certificateBytes(certificate)).digest('hex');
}

export function signCertificate(certificate: DeletionCertificate, signer: CertificateSigner): SignedCertificate {
  if (certificate.signingKeyId !== signer.keyId) throw new Error('the certificate names a different signing key');
  const value = signer.sign(certificateBytes(certificate)).toString('base64');
  return { certificate, signature: { algorithm: SIGNATURE_ALGORITHM, keyId: signer.keyId, value } };
}

/** The file form of a signed certificate: canonical JSON of the envelope, so every byte is covered. */
export function serializeSignedCertificate(signed: SignedCertificate): string {
  return canonicalJson(signed);
}

export interface VerificationResult {
  valid: boolean;
  /** Why verification failed; absent when valid. */
  reason?: string;
  keyId?: string;
  certificateId?: string;
  batchId?: string;
  records?: number;
  /** False when the file is not byte-for-byte the canonical form the service issued. */
  canonical?: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Verifies a signed certificate offline with the service's public key: no network, no
 * database. `text` is the downloaded file. A changed value breaks the signature; a
 * changed byte elsewhere breaks the canonical form (reported in `canonical`), and
 * `strict` makes that a failure too.
 */
export function verifyCertificateText(text: string, publicKey: string | KeyObject, options: { strict?: boolean } = {}): VerificationResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { valid: false, reason: 'the file is not valid JSON' };
  }
  const result = verifyCertificate(parsed, publicKey);
  if (!result.valid) return result;
  const canonical = canonicalJson(parsed) === text.replace(/\r?\n$/, '');
  if (options.strict && !canonical) {
    return { ...result, valid: false, canonical, reason: 'the file differs from the canonical form the service issued' };
  }
  return { ...result, canonical };
}

export function verifyCertificate(document: unknown, publicKey: string | KeyObject): VerificationResult {
  if (!isRecord(document) || !isRecord(document.certificate) || !isRecord(document.signature)) {
    return { valid: false, reason: 'expected {certificate, signature}' };
  }
  const { certificate, signature } = document;
  const extra = Object.keys(document).filter((k) => k !== 'certificate' && k !== 'signature');
  const extraSig = Object.keys(signature).filter((k) => !['algorithm', 'keyId', 'value'].includes(k));
  if (extra.length || extraSig.length) return { valid: false, reason: `unexpected fields: ${[...extra, ...extraSig].join(', ')}` };
  // The envelope's keyId is not covered by the signature; the certificate's copy is.
  if (typeof signature.keyId !== 'string' || signature.keyId !== certificate.signingKeyId) {
    return { valid: false, reason: 'the signature keyId does not match the certificate' };
  }
  if (signature.algorithm !== SIGNATURE_ALGORITHM) return { valid: false, reason: `unsupported algorithm ${String(signature.algorithm)}` };
  if (typeof signature.value !== 'string' || !BASE64.test(signature.value)) return { valid: false, reason: 'signature value is not base64' };
  // Non-canonical base64 (unused trailing bits set) decodes to the same bytes: refuse it so
  // that no byte of a certificate file can change and still verify.
  const signatureBytes = Buffer.from(signature.value, 'base64');
  if (signatureBytes.toString('base64') !== signature.value) return { valid: false, reason: 'signature value is not canonical base64' };
  let key: KeyObject;
  try {
    key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  } catch {
    return { valid: false, reason: 'the public key is not a valid PEM key' };
  }
  if (key.asymmetricKeyType !== 'ed25519') return { valid: false, reason: 'the public key is not an Ed25519 key' };
  const info = {
    keyId: typeof signature.keyId === 'string' ? signature.keyId : undefined,
    certificateId: typeof certificate.certificateId === 'string' ? certificate.certificateId : undefined,
    batchId: typeof certificate.batchId === 'string' ? certificate.batchId : undefined,
    records: Array.isArray(certificate.records) ? certificate.records.length : undefined,
  };
  let bytes: Buffer;
  try {
    bytes = Buffer.from(canonicalJson(certificate), 'utf8');
  } catch {
    return { valid: false, reason: 'the certificate cannot be canonicalized', ...info };
  }
  const ok = verify(null, bytes, key, signatureBytes);
  return ok ? { valid: true, ...info } : { valid: false, reason: 'the signature does not match the certificate', ...info };
}
