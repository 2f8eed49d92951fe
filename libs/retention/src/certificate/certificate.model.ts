/**
 * Certificate of deletion: the fields of the NIST SP 800-88 Rev. 1 Appendix G sample
 * "Certificate of Sanitization" that apply to records held as encrypted objects, plus
 * what a records auditor needs (hashes, hold check, four-eyes, the statement).
 * Times are ISO 8601 UTC strings so that the canonical JSON is stable.
 */

export const CERTIFICATE_SCHEMA = 'urn:kura:certificate-of-deletion:v1';
export const SIGNATURE_ALGORITHM = 'Ed25519';

/** Shown instead of the title of a document marked `specific` (My Number data must not leak). */
export const SPECIFIC_TITLE_PLACEHOLDER = '[特定個人情報 — 表題非表示 / specific personal information — title withheld]';

export const CERTIFICATE_STATEMENT = {
  en:
    'The records listed in this certificate were sanitized by cryptographic erasure (every data key that could decrypt ' +
    'them was destroyed) and deletion of every stored object of every version; each object was verified to be absent ' +
    'after deletion. The records cannot be reconstructed from the service, its object store or its object-store replicas.',
  ja:
    '本証明書に記載の記録は、暗号化消去（復号に必要なすべてのデータ鍵の破棄）および全版の保存オブジェクトの削除により消去され、' +
    '削除後に各オブジェクトが存在しないことを確認しました。これらの記録は、本サービス、そのオブジェクトストレージおよびその複製から復元することはできません。',
} as const;

export interface CertificatePerson {
  userId: string;
  name: string;
  title: string;
  organisation: string;
}

export interface CertificateVersion {
  number: number;
  sha256: string;
  size: number;
  createdAt: string;
  objectKey: string;
  dataKeyErased: boolean;
  objectDeleted: boolean;
  verification: {
    method: 'Full';
    /** What was checked: the object store was asked for the object and answered not-found. */
    check: 'object-store-stat';
    result: 'absent' | 'present';
    passed: boolean;
    verifiedAt: string;
  };
}

export interface CertificateRecord {
  recordId: string;
  title: string;
  titleWithheld: boolean;
  kind: string;
  personalData: 'none' | 'personal' | 'specific';
  /** NIST "Classification" of the media: the record's classification before sanitization. */
  classification: string;
  classificationJa: string;
  department: string | null;
  series: { code: string; name: string; citation: string; trigger: string; retention: string } | null;
  retention: { triggerDate: string | null; dispositionDate: string | null; dueReason: string };
  /** NIST "Media Type": logical storage, not a physical device. */
  mediaType: string;
  createdAt: string;
  versionCount: number;
  versions: CertificateVersion[];
  /**
   * Every other object under the record's storage prefix (uploads that never committed)
   * was deleted too, and a listing of the prefix came back empty.
   */
  storagePrefix?: {
    prefix: string;
    otherObjectsDeleted: number;
    verification: { method: 'Full'; check: 'object-store-list'; result: 'empty' | 'not-empty'; passed: boolean; verifiedAt: string };
  };
  destroyedAt: string;
  /** NIST "Post Sanitization Classification". */
  postSanitizationClassification: string;
}

export interface DeletionCertificate {
  schema: typeof CERTIFICATE_SCHEMA;
  certificateId: string;
  batchId: string;
  issuedAt: string;
  /** The key that signs this certificate: binds the envelope's keyId into the signed bytes. */
  signingKeyId: string;
  standard: string;
  organisation: string;
  /** NIST "Person Performing Sanitization": the officer whose approval executed the batch. */
  personPerforming: CertificatePerson;
  proposer: CertificatePerson & { proposedAt: string };
  approver: CertificatePerson & { approvedAt: string };
  sanitization: {
    methodType: 'Purge';
    methodUsed: 'Crypto Erase + object deletion';
    methodDetails: string;
    tool: { name: string; version: string };
    verificationMethod: 'Full';
    verificationResult: 'passed' | 'failed';
    postSanitizationClassification: string;
    destination: 'n/a';
    dataBackedUp: string;
    startedAt: string;
    completedAt: string;
  };
  holdCheck: { performed: true; description: string; checkedAt: string; blockingHolds: number };
  records: CertificateRecord[];
  /** Records proposed in the batch but not destroyed (hold, review extension, not due at execution). */
  notDestroyed: Array<{ recordId: string; outcome: 'extended' | 'skipped'; reason: string }>;
  /** NIST "Signature" and "Validation": signed by the service key on behalf of the approving officer. */
  validation: CertificatePerson & { validatedAt: string; statement: string };
  statement: { en: string; ja: string };
}

export interface CertificateSignature {
  algorithm: typeof SIGNATURE_ALGORITHM;
  keyId: string;
  /** base64 Ed25519 signature over canonicalJson(certificate) (RFC 8785). */
  value: string;
}

export interface SignedCertificate {
  certificate: DeletionCertificate;
  signature: CertificateSignature;
}

/** What certificates are signed with: the audit/signing capability's Signer fits this shape. */
export interface CertificateSigner {
  readonly keyId: string;
  sign(data: Buffer): Buffer;
}

/**
 * Added beside `{certificate, signature}` when the reader may not see every record: those
 * records are left out (counted here), so this copy no longer matches the signature.
 */
export interface CertificateRedaction {
  withheldRecords: number;
  withheldNotDestroyed: number;
  note: string;
}

export const REDACTION_NOTE =
  'Redacted for this reader: records they may not see are left out and only counted. The signature covers the full ' +
  'certificate, so this copy does not verify; an officer who may see every record obtains the verifiable original.';
