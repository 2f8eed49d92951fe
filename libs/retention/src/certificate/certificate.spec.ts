import { generateKeyPairSync } from 'node:crypto';
import { canonicalJson } from '@kura/common';
import { buildCertificate } from './certificate.builder';
import { certificateBytes, serializeSignedCertificate, signCertificate, verifyCertificate, verifyCertificateText } from './certificate-signing';
import { SPECIFIC_TITLE_PLACEHOLDER } from './certificate.model';
import { sampleFacts, testSigner } from './certificate.fixture';

describe('deletion certificate', () => {
  const signer = testSigner();
  const certificate = buildCertificate(sampleFacts());
  const signed = signCertificate(certificate, signer);
  const file = serializeSignedCertificate(signed);

  it('carries the NIST SP 800-88 Appendix G fields that apply, and the four-eyes facts', () => {
    expect(certificate.personPerforming).toEqual({ userId: expect.any(String), name: 'officer-b', title: expect.stringContaining('Records Officer'), organisation: 'Example K.K.' });
    expect(certificate.sanitization).toMatchObject({
      methodType: 'Purge',
      methodUsed: 'Crypto Erase + object deletion',
      tool: { name: 'Kura', version: '0.1.0' },
      verificationMethod: 'Full',
      verificationResult: 'passed',
      destination: 'n/a',
    });
    expect(certificate.sanitization.postSanitizationClassification).toBeTruthy();
    expect(certificate.holdCheck).toMatchObject({ performed: true, blockingHolds: 0 });
    expect(certificate.proposer).toMatchObject({ name: 'officer-a', proposedAt: '2033-04-02T09:00:00.000Z' });
    expect(certificate.approver).toMatchObject({ name: 'officer-b', approvedAt: '2033-04-02T10:00:00.000Z' });
    expect(certificate.validation).toMatchObject({ name: 'officer-b', validatedAt: '2033-04-02T10:00:04.000Z' });
    expect(certificate.statement.en).toMatch(/cannot be reconstructed/);
    expect(certificate.statement.ja).toMatch(/復元することはできません/);
  });

  it('lists every record with series, citation, classification, object keys and a verified SHA-256 per version', () => {
    const [first, second] = certificate.records;
    expect(first).toMatchObject({ recordId: 'a3c1e5f7-0000-4000-8000-000000000001', title: '2025年 源泉徴収簿', classification: 'CONFIDENTIAL', classificationJa: '秘', versionCount: 2 });
    expect(first.series?.citation).toContain('所得税法');
    expect(first.versions.map((v) => v.objectKey)).toEqual(['documents/a3c1e5f7-0000-4000-8000-000000000001/v1', 'documents/a3c1e5f7-0000-4000-8000-000000000001/v2']);
    expect(first.versions[0]).toMatchObject({ sha256: '1'.repeat(64), dataKeyErased: true, objectDeleted: true, verification: { method: 'Full', result: 'absent', passed: true } });
    expect(second.classificationJa).toBe('極秘');
  });

  it('withholds the title of a document marked specific', () => {
    const specific = certificate.records[1];
    expect(specific).toMatchObject({ title: SPECIFIC_TITLE_PLACEHOLDER, titleWithheld: true, personalData: 'specific' });
    expect(JSON.stringify(signed)).not.toContain('山田太郎');
  });

  it('reports a failed verification when an object is still present', () => {
    const facts = sampleFacts();
    facts.records[0].versions[1].absent = false;
    const failed = buildCertificate(facts);
    expect(failed.sanitization.verificationResult).toBe('failed');
    expect(failed.records[0].versions[1].verification).toMatchObject({ result: 'present', passed: false });
  });

  it('signs the RFC 8785 canonical JSON of the certificate with a detached Ed25519 signature', () => {
    expect(signed.signature).toEqual({ algorithm: 'Ed25519', keyId: 'test-key-1', value: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/) });
    expect(certificateBytes(certificate).toString()).toBe(canonicalJson(certificate));
    expect(verifyCertificate(signed, signer.publicKeyPem)).toEqual({ valid: true, keyId: 'test-key-1', certificateId: certificate.certificateId, batchId: certificate.batchId, records: 2 });
  });

  it('verifies the issued file offline, whatever the key order of a re-serialised copy', () => {
    expect(verifyCertificateText(file, signer.publicKeyPem, { strict: true })).toMatchObject({ valid: true, canonical: true });
    const reordered = JSON.stringify({ signature: signed.signature, certificate: JSON.parse(JSON.stringify(certificate)) }, null, 2);
    expect(verifyCertificateText(reordered, signer.publicKeyPem)).toMatchObject({ valid: true, canonical: false });
    expect(verifyCertificateText(reordered, signer.publicKeyPem, { strict: true })).toMatchObject({ valid: false, reason: expect.stringMatching(/canonical/) });
  });

  it('fails when any single byte of the file changes', () => {
    const bytes = Buffer.from(file, 'utf8');
    // Every position would take long with Ed25519; every 7th byte covers keys, values, ids, hashes and the signature.
    for (let i = 0; i < bytes.length; i += 7) {
      const copy = Buffer.from(bytes);
      copy[i] = copy[i] === 0x41 ? 0x42 : 0x41;
      const result = verifyCertificateText(copy.toString('utf8'), signer.publicKeyPem, { strict: true });
      if (result.valid) throw new Error(`changing byte ${i} (${String.fromCharCode(bytes[i])}) still verified`);
    }
  });

  it('fails for a tampered value, a wrong key, a wrong algorithm and malformed input', () => {
    const tampered = JSON.parse(file) as typeof signed;
    tampered.certificate.records[0].versions[0].sha256 = 'f'.repeat(64);
    expect(verifyCertificate(tampered, signer.publicKeyPem)).toMatchObject({ valid: false, reason: expect.stringMatching(/does not match/) });

    const removed = JSON.parse(file) as typeof signed;
    removed.certificate.records.pop();
    expect(verifyCertificate(removed, signer.publicKeyPem).valid).toBe(false);

    expect(verifyCertificate(signed, testSigner().publicKeyPem)).toMatchObject({ valid: false });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyCertificate(signed, rsa)).toMatchObject({ valid: false, reason: expect.stringMatching(/Ed25519/) });
    expect(verifyCertificate(signed, 'not a key')).toMatchObject({ valid: false, reason: expect.stringMatching(/PEM/) });
    expect(verifyCertificate({ ...signed, signature: { ...signed.signature, algorithm: 'RS256' } }, signer.publicKeyPem)).toMatchObject({ valid: false });
    expect(verifyCertificate({ certificate }, signer.publicKeyPem)).toMatchObject({ valid: false });
    expect(verifyCertificateText('{"certificate":', signer.publicKeyPem)).toMatchObject({ valid: false, reason: expect.stringMatching(/JSON/) });
  });
});
