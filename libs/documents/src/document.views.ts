import { classificationName, ClassificationName } from '@kura/common';
import type { DocumentTombstone } from './document-tombstones';
import type { DocumentEntity } from './document.entity';
import type { DocumentVersionEntity } from './document-version.entity';

/** The document as the API shows it (SPEC §5): classification as its level name. */
export interface DocumentView {
  id: string;
  title: string;
  kind: string;
  classification: ClassificationName;
  department: string;
  ownerId: string;
  tags: string[];
  personalData: string;
  seriesId: string | null;
  status: string;
  reviewDueAt: string | null;
  version: number;
  sha256: string;
  size: number;
  createdAt: string;
  updatedAt: string;
  /** Destroyed documents only: when, by which disposition batch, and the certificate. */
  disposition?: DocumentTombstone | null;
}

export interface VersionView {
  number: number;
  size: number;
  sha256: string;
  mediaType: string;
  filename: string;
  authorId: string;
  comment: string | null;
  restoredFrom: number | null;
  createdAt: string;
}

export function documentView(doc: DocumentEntity, current: { size: number; sha256: string }): DocumentView {
  return {
    id: doc.id,
    title: doc.title,
    kind: doc.kind,
    classification: classificationName(doc.classification),
    department: doc.department,
    ownerId: doc.ownerId,
    tags: doc.tags,
    personalData: doc.personalData,
    seriesId: doc.seriesId,
    status: doc.status,
    reviewDueAt: doc.reviewDueAt ? new Date(doc.reviewDueAt).toISOString() : null,
    version: doc.currentVersion,
    sha256: current.sha256,
    size: Number(current.size),
    createdAt: new Date(doc.createdAt).toISOString(),
    updatedAt: new Date(doc.updatedAt).toISOString(),
  };
}

export function versionView(v: DocumentVersionEntity): VersionView {
  return {
    number: v.number,
    size: Number(v.size),
    sha256: v.sha256,
    mediaType: v.mediaType,
    filename: v.originalFilename,
    authorId: v.authorId,
    comment: v.comment,
    restoredFrom: v.restoredFrom,
    createdAt: new Date(v.createdAt).toISOString(),
  };
}

/** The strong ETag naming a document's current version. */
export function versionEtag(number: number): string {
  return `"v${number}"`;
}

/** RFC 9110 §13.1.1: strong comparison; `*` matches any current version; weak tags never match. */
export function ifMatchSatisfied(header: string, currentVersion: number): boolean {
  const wanted = versionEtag(currentVersion);
  return header
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === '*' || t === wanted);
}
