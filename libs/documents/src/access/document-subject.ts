import { subject } from '@casl/ability';
import type { DocumentEntity } from '../document.entity';
import type { FieldMapping } from './casl-sql';

/** The attributes access rules may test, as CASL sees a document. */
export interface DocumentSubject {
  id: string;
  ownerId: string;
  classification: number;
  department: string;
  personalData: string;
  kind: string;
  status: string;
  tags: string[];
  seriesId: string | null;
}

export function documentSubject(doc: Pick<DocumentEntity, keyof DocumentSubject>) {
  return subject('Document', {
    id: doc.id,
    ownerId: doc.ownerId,
    classification: doc.classification,
    department: doc.department,
    personalData: doc.personalData,
    kind: doc.kind,
    status: doc.status,
    tags: doc.tags,
    seriesId: doc.seriesId,
  } satisfies DocumentSubject);
}

/** The same attributes as SQL columns of `documents d`: the only fields a list filter may use. */
export const DOCUMENT_SQL_FIELDS: Record<keyof DocumentSubject, FieldMapping> = {
  id: { column: 'd.id' },
  ownerId: { column: 'd.owner_id' },
  classification: { column: 'd.classification' },
  department: { column: 'd.department' },
  personalData: { column: 'd.personal_data' },
  kind: { column: 'd.kind' },
  status: { column: 'd.status' },
  tags: { column: 'd.tags', array: true },
  seriesId: { column: 'd.series_id' },
};
