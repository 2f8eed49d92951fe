import { createHash } from 'node:crypto';
import type { DocumentEntity } from '../document.entity';
import type { UpdateDocumentDto } from '../dto/update-document.dto';

/** The descriptive fields a PATCH may change besides the classification (which has its own rules). */
export const METADATA_FIELDS = ['title', 'tags', 'reviewDueAt', 'seriesId'] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

export type MetadataPatch = Partial<Pick<DocumentEntity, 'title' | 'tags' | 'reviewDueAt' | 'seriesId'>>;

export interface MetadataChange {
  from: unknown;
  to: unknown;
}

export type MetadataChanges = Partial<Record<MetadataField, MetadataChange>>;

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** What a PATCH really changes on the locked row: each field with its old and new value, and the row patch. */
export function metadataChanges(doc: DocumentEntity, dto: UpdateDocumentDto): { patch: MetadataPatch; changes: MetadataChanges } {
  const patch: MetadataPatch = {};
  const changes: MetadataChanges = {};
  if (dto.title !== undefined && dto.title !== doc.title) {
    patch.title = dto.title;
    changes.title = { from: doc.title, to: dto.title };
  }
  if (dto.tags !== undefined) {
    const tags = [...new Set(dto.tags)];
    if (tags.length !== doc.tags.length || tags.some((t, i) => t !== doc.tags[i])) {
      patch.tags = tags;
      changes.tags = { from: doc.tags, to: tags };
    }
  }
  if (dto.reviewDueAt !== undefined && iso(dto.reviewDueAt) !== iso(doc.reviewDueAt)) {
    patch.reviewDueAt = dto.reviewDueAt === null ? null : new Date(dto.reviewDueAt);
    changes.reviewDueAt = { from: iso(doc.reviewDueAt), to: iso(dto.reviewDueAt) };
  }
  if (dto.seriesId !== undefined && dto.seriesId !== doc.seriesId) {
    patch.seriesId = dto.seriesId;
    changes.seriesId = { from: doc.seriesId, to: dto.seriesId };
  }
  return { patch, changes };
}

const sha256 = (s: unknown) => createHash('sha256').update(String(s), 'utf8').digest('hex');

/**
 * The changes as the audit trail keeps them: old and new values, so a change can be
 * reconstructed — except the title of a `specific` (My Number) document, kept as its SHA-256.
 */
export function auditedChanges(changes: MetadataChanges, personalData: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...changes };
  if (changes.title && personalData === 'specific') out.title = { fromSha256: sha256(changes.title.from), toSha256: sha256(changes.title.to) };
  return out;
}
