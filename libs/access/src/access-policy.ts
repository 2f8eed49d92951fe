import { AbilityBuilder, createMongoAbility, ForcedSubject, MongoAbility, MongoQuery } from '@casl/ability';
import { Designation, Role, type Actor } from '@kura/identity';
import type { FieldMapping } from './casl-sql';
import type { Action, SubjectType } from './policy.decorator';

/**
 * THE default access policy (SPEC section 4), in one place. docs/access-control.md shows it
 * as a table; access-policy.spec.ts walks that table. Every other check (route guards,
 * row-level checks in services, SQL filters for lists) derives from the rules built here.
 */

export type PersonalDataMarking = 'none' | 'personal' | 'specific';

/** The Document fields the rules look at. Names are shared with the documents library and its SQL translation. */
export interface DocumentSubjectFields {
  /** 0–3, see Classification. */
  classification: number;
  department: string;
  personalData: PersonalDataMarking;
  ownerId: string;
  status?: string;
  /** Attributes no default rule reads yet; a future rule may, and each is mapped to SQL below. */
  id?: string;
  kind?: string;
  tags?: string[];
  seriesId?: string | null;
}

/** The same attributes as SQL columns of `documents d`: the only fields a SQL filter may use. */
export const DOCUMENT_SQL_FIELDS: Record<keyof DocumentSubjectFields, FieldMapping> = {
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

/**
 * What a records officer needs on every document a retention act covers: placing or
 * releasing a hold, recording a retention event, proposing, approving or cancelling a
 * disposition batch. A document the officer may not `read` answers like a missing one.
 */
export const RETENTION_DOCUMENT_ACTION: Action = 'update';

export type DocumentSubject = DocumentSubjectFields & ForcedSubject<'Document'>;
export type AppSubject = SubjectType | DocumentSubject;
export type AppAbility = MongoAbility<[Action, AppSubject], MongoQuery>;

const STAFF_DOCUMENT_ACTIONS: Action[] = ['create', 'read', 'read_content', 'version'];
/**
 * The metadata staff may `update`. Not `seriesId`: the series decides when a record is
 * destroyed, so assigning it is the records officers' act (their `update` has no field list).
 */
export const STAFF_UPDATABLE_FIELDS = ['title', 'tags', 'reviewDueAt'];
const RECORDS_OFFICER_DOCUMENT_ACTIONS: Action[] = ['read', 'update', 'reclassify', 'downgrade'];

export function buildAbility(actor: Actor): AppAbility {
  const builder = new AbilityBuilder<AppAbility>(createMongoAbility);
  const { can } = builder;
  const roles = new Set(actor.roles);
  const handler = actor.designations.includes(Designation.MyNumberHandler);
  const inScope = { department: { $in: actor.departments }, classification: { $lte: actor.clearance } };
  // Specific personal information (My Number Act art. 12, 29): only designated handlers ever match it.
  const notSpecific = { personalData: { $ne: 'specific' as PersonalDataMarking } };
  const specific = { personalData: 'specific' as PersonalDataMarking };

  if (roles.has(Role.Staff)) {
    can(STAFF_DOCUMENT_ACTIONS, 'Document', { ...inScope, ...notSpecific });
    can('update', 'Document', STAFF_UPDATABLE_FIELDS, { ...inScope, ...notSpecific });
    can(['read', 'read_content'], 'Document', { classification: 0, ...notSpecific });
    can('reclassify', 'Document', { ...inScope, ...notSpecific, ownerId: actor.id });
    // An owner reads the access history of what they own and may still read.
    can('read_history', 'Document', { ...inScope, ...notSpecific, ownerId: actor.id });
    can('read_history', 'Document', { classification: 0, ...notSpecific, ownerId: actor.id });
    if (handler) {
      can(STAFF_DOCUMENT_ACTIONS, 'Document', { ...inScope, ...specific });
      can('update', 'Document', STAFF_UPDATABLE_FIELDS, { ...inScope, ...specific });
      can('reclassify', 'Document', { ...inScope, ...specific, ownerId: actor.id });
      can('read_history', 'Document', { ...inScope, ...specific, ownerId: actor.id });
    }
  }

  if (roles.has(Role.RecordsOfficer)) {
    can('manage', ['Series', 'Hold', 'Disposition']);
    can('read', 'Inventory');
    // Metadata only: read_content is deliberately absent (separation of duties).
    can([...RECORDS_OFFICER_DOCUMENT_ACTIONS, 'read_history'], 'Document', { classification: { $lte: actor.clearance }, ...notSpecific });
    if (handler) can([...RECORDS_OFFICER_DOCUMENT_ACTIONS, 'read_history'], 'Document', { ...inScope, ...specific });
  }

  if (roles.has(Role.Auditor)) {
    can(['read', 'export'], 'AuditEvent');
    can(['read', 'create'], 'AccessReview');
    can('read', 'Inventory');
    can('read', 'Document', notSpecific);
    // Oversight without exposure (My Number guideline): the history of every document,
    // `specific` ones included (their titles only as a hash), never their metadata or content.
    can('read_history', 'Document');
    // The file plan, holds, batches and certificates, each redacted to the documents above.
    can('read', ['Series', 'Hold', 'Disposition']);
  }

  if (roles.has(Role.Admin)) {
    // A.5.3 segregation of duties: administrators manage accounts and policy, never documents.
    can('manage', ['User', 'AccessReview', 'Policy']);
  }

  return builder.build();
}
