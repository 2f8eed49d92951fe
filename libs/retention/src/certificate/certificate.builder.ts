import { CLASSIFICATION_LABELS_JA, classificationName } from '@kura/common';
import {
  CERTIFICATE_SCHEMA,
  CERTIFICATE_STATEMENT,
  CertificatePerson,
  CertificateRecord,
  DeletionCertificate,
  SPECIFIC_TITLE_PLACEHOLDER,
} from './certificate.model';

export const RECORDS_OFFICER_TITLE = 'Records Officer / 記録管理責任者';

export interface DestroyedVersionFacts {
  number: number;
  sha256: string;
  size: number;
  createdAt: Date;
  objectKey: string;
  dataKeyErased: boolean;
  objectDeleted: boolean;
  /** The object store answered not-found when asked after deletion. */
  absent: boolean;
  verifiedAt: Date;
}

export interface DestroyedRecordFacts {
  recordId: string;
  title: string;
  kind: string;
  personalData: 'none' | 'personal' | 'specific';
  classification: number;
  department: string | null;
  series: { code: string; name: string; citation: string; trigger: string; retention: string } | null;
  triggerDate: Date | null;
  dispositionDate: Date | null;
  dueReason: string;
  createdAt: Date;
  destroyedAt: Date;
  versions: DestroyedVersionFacts[];
  /** The sweep of the record's storage prefix (objects of uploads that never committed). */
  prefix?: { prefix: string; otherObjectsDeleted: number; empty: boolean; verifiedAt: Date };
}

export interface CertificateFacts {
  certificateId: string;
  batchId: string;
  issuedAt: Date;
  signingKeyId: string;
  organisation: string;
  tool: { name: string; version: string };
  proposer: { userId: string; name: string; at: Date };
  approver: { userId: string; name: string; at: Date };
  startedAt: Date;
  completedAt: Date;
  holdCheckedAt: Date;
  records: DestroyedRecordFacts[];
  notDestroyed: Array<{ recordId: string; outcome: 'extended' | 'skipped'; reason: string }>;
}

const iso = (d: Date) => d.toISOString();

function person(p: { userId: string; name: string }, organisation: string): CertificatePerson {
  return { userId: p.userId, name: p.name, title: RECORDS_OFFICER_TITLE, organisation };
}

function record(r: DestroyedRecordFacts): CertificateRecord {
  const name = classificationName(r.classification);
  const withheld = r.personalData === 'specific';
  return {
    recordId: r.recordId,
    // My Number guideline: the certificate must not itself disclose specific personal information.
    title: withheld ? SPECIFIC_TITLE_PLACEHOLDER : r.title,
    titleWithheld: withheld,
    kind: r.kind,
    personalData: r.personalData,
    classification: name,
    classificationJa: CLASSIFICATION_LABELS_JA[name],
    department: r.department,
    series: r.series,
    retention: {
      triggerDate: r.triggerDate ? iso(r.triggerDate) : null,
      dispositionDate: r.dispositionDate ? iso(r.dispositionDate) : null,
      dueReason: r.dueReason,
    },
    mediaType: 'S3-compatible object storage; each version encrypted (AES-256-GCM) under its own wrapped data key',
    createdAt: iso(r.createdAt),
    versionCount: r.versions.length,
    versions: r.versions.map((v) => ({
      number: v.number,
      sha256: v.sha256,
      size: v.size,
      createdAt: iso(v.createdAt),
      objectKey: v.objectKey,
      dataKeyErased: v.dataKeyErased,
      objectDeleted: v.objectDeleted,
      verification: { method: 'Full', check: 'object-store-stat', result: v.absent ? 'absent' : 'present', passed: v.absent, verifiedAt: iso(v.verifiedAt) },
    })),
    ...(r.prefix && {
      storagePrefix: {
        prefix: r.prefix.prefix,
        otherObjectsDeleted: r.prefix.otherObjectsDeleted,
        verification: { method: 'Full' as const, check: 'object-store-list' as const, result: r.prefix.empty ? ('empty' as const) : ('not-empty' as const), passed: r.prefix.empty, verifiedAt: iso(r.prefix.verifiedAt) },
      },
    }),
    destroyedAt: iso(r.destroyedAt),
    postSanitizationClassification: 'n/a — no recoverable content remains',
  };
}

/** Maps what the executor did into the certificate (NIST SP 800-88 Rev. 1 Appendix G fields). */
export function buildCertificate(f: CertificateFacts): DeletionCertificate {
  const records = f.records.map(record);
  const passed = records.every((r) => r.versions.every((v) => v.verification.passed && v.dataKeyErased && v.objectDeleted) && (r.storagePrefix?.verification.passed ?? true));
  return {
    schema: CERTIFICATE_SCHEMA,
    certificateId: f.certificateId,
    batchId: f.batchId,
    issuedAt: iso(f.issuedAt),
    signingKeyId: f.signingKeyId,
    standard: 'NIST SP 800-88 Rev. 1, Appendix G (Certificate of Sanitization); ISO/IEC 27001:2022 A.8.10',
    organisation: f.organisation,
    personPerforming: person(f.approver, f.organisation),
    proposer: { ...person(f.proposer, f.organisation), proposedAt: iso(f.proposer.at) },
    approver: { ...person(f.approver, f.organisation), approvedAt: iso(f.approver.at) },
    sanitization: {
      methodType: 'Purge',
      methodUsed: 'Crypto Erase + object deletion',
      methodDetails:
        'Every wrapped AES-256 data key of every version was erased from the database (table vacuumed after the batch), ' +
        'then every stored object of every version was deleted from the object store and each deletion verified; ' +
        'any other object under the record\'s storage prefix (an upload that never committed) was deleted too and the prefix listed empty.',
      tool: f.tool,
      verificationMethod: 'Full',
      verificationResult: passed ? 'passed' : 'failed',
      postSanitizationClassification: 'n/a — no recoverable content remains',
      destination: 'n/a',
      dataBackedUp:
        'Database backups taken before the erasure still hold the wrapped data keys until they expire; object-store ' +
        'replicas hold only ciphertext. See docs/retention.md.',
      startedAt: iso(f.startedAt),
      completedAt: iso(f.completedAt),
    },
    holdCheck: {
      performed: true,
      description: 'Each record was re-checked for active legal holds and for its disposition date under a row lock immediately before destruction.',
      checkedAt: iso(f.holdCheckedAt),
      blockingHolds: 0,
    },
    records,
    notDestroyed: f.notDestroyed,
    validation: {
      ...person(f.approver, f.organisation),
      validatedAt: iso(f.completedAt),
      statement: 'Approved by a records officer other than the proposer (four-eyes); signed by the service key on completion.',
    },
    statement: { en: CERTIFICATE_STATEMENT.en, ja: CERTIFICATE_STATEMENT.ja },
  };
}
