import { generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { CertificateFacts } from './certificate.builder';
import { CertificateSigner } from './certificate.model';

/** A signer over a key pair generated for the test: no key file, no service. */
export function testSigner(keyId = 'test-key-1'): CertificateSigner & { publicKeyPem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (data: Buffer) => sign(null, data, privateKey),
  };
}

export function sampleFacts(overrides: Partial<CertificateFacts> = {}): CertificateFacts {
  const t = (iso: string) => new Date(iso);
  return {
    certificateId: '6f1c2d4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f',
    batchId: '0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d',
    issuedAt: t('2033-04-02T10:00:05.000Z'),
    signingKeyId: 'test-key-1',
    organisation: 'Example K.K.',
    tool: { name: 'Kura', version: '0.1.0' },
    proposer: { userId: '11111111-1111-4111-8111-111111111111', name: 'officer-a', at: t('2033-04-02T09:00:00.000Z') },
    approver: { userId: '22222222-2222-4222-8222-222222222222', name: 'officer-b', at: t('2033-04-02T10:00:00.000Z') },
    startedAt: t('2033-04-02T10:00:01.000Z'),
    completedAt: t('2033-04-02T10:00:04.000Z'),
    holdCheckedAt: t('2033-04-02T10:00:01.000Z'),
    records: [
      {
        recordId: 'a3c1e5f7-0000-4000-8000-000000000001',
        title: '2025年 源泉徴収簿',
        kind: 'record',
        personalData: 'personal',
        classification: 2,
        department: 'hr',
        series: { code: 'JP-TAX-WITHHOLDING-LEDGER', name: '源泉徴収簿 / Withholding tax ledger', citation: '所得税法・所得税法施行規則', trigger: 'event:filing-deadline-passed', retention: '7 years' },
        triggerDate: t('2026-01-11T00:00:00.000Z'),
        dispositionDate: t('2033-01-11T00:00:00.000Z'),
        dueReason: 'Series JP-TAX-WITHHOLDING-LEDGER: 7 years after event "filing-deadline-passed" ended.',
        createdAt: t('2025-12-20T03:00:00.000Z'),
        destroyedAt: t('2033-04-02T10:00:02.000Z'),
        versions: [1, 2].map((n) => ({
          number: n,
          sha256: String(n).repeat(64),
          size: 1000 * n,
          createdAt: t('2025-12-20T03:00:00.000Z'),
          objectKey: `documents/a3c1e5f7-0000-4000-8000-000000000001/v${n}`,
          dataKeyErased: true,
          objectDeleted: true,
          absent: true,
          verifiedAt: t('2033-04-02T10:00:02.000Z'),
        })),
      },
      {
        recordId: 'a3c1e5f7-0000-4000-8000-000000000002',
        title: '山田太郎 個人番号カード写し',
        kind: 'record',
        personalData: 'specific',
        classification: 3,
        department: 'hr',
        series: { code: 'JP-MYNUMBER-COPIES', name: '個人番号の写し', citation: '番号法 第20条', trigger: 'event:purpose-ended', retention: 'no further retention' },
        triggerDate: t('2033-03-01T00:00:00.000Z'),
        dispositionDate: t('2033-03-01T00:00:00.000Z'),
        dueReason: 'Series JP-MYNUMBER-COPIES: no further retention after event "purpose-ended".',
        createdAt: t('2024-05-01T00:00:00.000Z'),
        destroyedAt: t('2033-04-02T10:00:03.000Z'),
        versions: [
          {
            number: 1,
            sha256: 'ab'.repeat(32),
            size: 52_000,
            createdAt: t('2024-05-01T00:00:00.000Z'),
            objectKey: 'documents/a3c1e5f7-0000-4000-8000-000000000002/v1',
            dataKeyErased: true,
            objectDeleted: true,
            absent: true,
            verifiedAt: t('2033-04-02T10:00:03.000Z'),
          },
        ],
      },
    ],
    notDestroyed: [],
    ...overrides,
  };
}
