import { subject } from '@casl/ability';
import type { DocumentSubject as PolicyDocumentSubject } from '@kura/access';
import type { DocumentEntity } from '../document.entity';
import type { FieldMapping } from './casl-sql';

type SubjectFields = Pick<DocumentEntity, 'id' | 'ownerId' | 'classification' | 'department' | 'personalData' | 'kind' | 'status' | 'tags' | 'seriesId'>;

/**
 * A document as the access policy (libs/access) sees it: the fields its rules read, plus
 * the other attributes a future rule could use — every one of them also mapped to SQL below.
 */
export function documentSubject(doc: SubjectFields): PolicyDocumentSubject {
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
  });
}

/** The same attributes as SQL columns of `documents d`: the only fields a list filter may use. */
export const DOCUMENT_SQL_FIELDS: Record<keyof SubjectFields, FieldMapping> = {
  id: { column: 'd.id' },
  ownerId: { column: 'd.owner_id' },
  classification: { column: 'd.classification' },
  department: { column: 'd.department' },
  personalData: { column: 'd.personal_data' },
  kind: { column: 'd.kind' },
  status: { column: 'd.status' },
  tags: { column: 'd.tags', array: true },
  seriesId: { column: 'd.series_id', nullable: true },
};
