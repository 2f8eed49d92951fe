import { Designation, Role, type Actor } from '@kura/identity';
import { AbilityFactory, documentSubject } from './ability.factory';
import type { DocumentSubjectFields } from './access-policy';
import type { Action, SubjectType } from './policy.decorator';

const OWNER = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

function actor(name: string, roles: Role[], clearance: number, departments: string[], designations: Designation[] = []): Actor {
  return { id: name === 'owner' ? OWNER : `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`, username: name, roles, clearance, departments, designations, sessionId: 's' };
}

const ACTORS = {
  staff: actor('staff', [Role.Staff], 2, ['hr']),
  owner: actor('owner', [Role.Staff], 2, ['hr']),
  handler: actor('handler', [Role.Staff], 2, ['hr'], [Designation.MyNumberHandler]),
  officer: actor('officer', [Role.RecordsOfficer], 2, ['records']),
  officerHandler: actor('offhandler', [Role.RecordsOfficer], 2, ['hr'], [Designation.MyNumberHandler]),
  auditor: actor('auditor', [Role.Auditor], 3, []),
  admin: actor('admin', [Role.Admin], 3, ['hr']),
  nobody: actor('nobody', [], 3, ['hr'], [Designation.MyNumberHandler]),
};
type ActorName = keyof typeof ACTORS;

const doc = (over: Partial<DocumentSubjectFields> = {}): DocumentSubjectFields => ({
  classification: 1,
  department: 'hr',
  personalData: 'none',
  ownerId: OTHER,
  status: 'active',
  ...over,
});

const DOCS = {
  hrInternal: doc(),
  hrSecret: doc({ classification: 3 }),
  hrConfidentialOwned: doc({ classification: 2, ownerId: OWNER }),
  financeInternal: doc({ department: 'finance' }),
  financePublic: doc({ department: 'finance', classification: 0 }),
  hrPersonal: doc({ personalData: 'personal' }),
  hrSpecific: doc({ personalData: 'specific' }),
  hrSpecificOwned: doc({ personalData: 'specific', ownerId: OWNER }),
  hrSpecificSecret: doc({ personalData: 'specific', classification: 3 }),
  financeSpecificPublic: doc({ personalData: 'specific', department: 'finance', classification: 0 }),
};
type DocName = keyof typeof DOCS;

const DOC_ACTIONS: Action[] = ['create', 'read', 'read_content', 'read_history', 'update', 'reclassify', 'downgrade', 'version', 'delete', 'export', 'approve', 'manage'];

/**
 * The default policy of SPEC section 4 as a table (docs/access-control.md): for each actor
 * and document, the exact set of document actions allowed. Anything not listed is denied.
 */
const DOCUMENT_TABLE: Record<ActorName, Partial<Record<DocName, Action[]>>> = {
  staff: {
    hrInternal: ['create', 'read', 'read_content', 'update', 'version'],
    hrPersonal: ['create', 'read', 'read_content', 'update', 'version'],
    hrConfidentialOwned: ['create', 'read', 'read_content', 'update', 'version'],
    financePublic: ['read', 'read_content'],
  },
  owner: {
    hrInternal: ['create', 'read', 'read_content', 'update', 'version'],
    hrPersonal: ['create', 'read', 'read_content', 'update', 'version'],
    hrConfidentialOwned: ['create', 'read', 'read_content', 'update', 'version', 'reclassify', 'read_history'],
    financePublic: ['read', 'read_content'],
  },
  handler: {
    hrInternal: ['create', 'read', 'read_content', 'update', 'version'],
    hrPersonal: ['create', 'read', 'read_content', 'update', 'version'],
    hrConfidentialOwned: ['create', 'read', 'read_content', 'update', 'version'],
    financePublic: ['read', 'read_content'],
    hrSpecific: ['create', 'read', 'read_content', 'update', 'version'],
    hrSpecificOwned: ['create', 'read', 'read_content', 'update', 'version'],
  },
  officer: {
    hrInternal: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    hrPersonal: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    hrConfidentialOwned: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    financeInternal: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    financePublic: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
  },
  officerHandler: {
    hrInternal: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    hrPersonal: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    hrConfidentialOwned: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    financeInternal: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    financePublic: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    hrSpecific: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
    hrSpecificOwned: ['read', 'read_history', 'update', 'reclassify', 'downgrade'],
  },
  // Every document's history, `specific` ones included (oversight without exposure); their metadata never.
  auditor: {
    hrInternal: ['read', 'read_history'],
    hrSecret: ['read', 'read_history'],
    hrConfidentialOwned: ['read', 'read_history'],
    financeInternal: ['read', 'read_history'],
    financePublic: ['read', 'read_history'],
    hrPersonal: ['read', 'read_history'],
    hrSpecific: ['read_history'],
    hrSpecificOwned: ['read_history'],
    hrSpecificSecret: ['read_history'],
    financeSpecificPublic: ['read_history'],
  },
  admin: {},
  nobody: {},
};

/** Non-document subjects: which actions each actor may take on the type. */
const TYPE_TABLE: Array<[ActorName, Action, SubjectType, boolean]> = [
  ['admin', 'create', 'User', true],
  ['admin', 'update', 'User', true],
  ['admin', 'read', 'AccessReview', true],
  ['admin', 'create', 'AccessReview', true],
  ['admin', 'update', 'Policy', true],
  ['admin', 'read', 'AuditEvent', false],
  ['admin', 'read', 'Inventory', false],
  ['admin', 'read', 'Document', false],
  ['admin', 'manage', 'Series', false],
  ['auditor', 'read', 'AuditEvent', true],
  ['auditor', 'export', 'AuditEvent', true],
  ['auditor', 'read', 'AccessReview', true],
  ['auditor', 'create', 'AccessReview', true],
  ['auditor', 'read', 'Inventory', true],
  ['auditor', 'read', 'User', false],
  ['auditor', 'read_content', 'Document', false],
  ['auditor', 'manage', 'Hold', false],
  ['auditor', 'read', 'Hold', true],
  ['auditor', 'read', 'Series', true],
  ['auditor', 'read', 'Disposition', true],
  ['auditor', 'create', 'Hold', false],
  ['auditor', 'update', 'Hold', false],
  ['auditor', 'approve', 'Disposition', false],
  ['auditor', 'create', 'Disposition', false],
  ['officer', 'create', 'Series', true],
  ['officer', 'read', 'Series', true],
  ['officer', 'create', 'Hold', true],
  ['officer', 'update', 'Hold', true],
  ['officer', 'create', 'Disposition', true],
  ['officer', 'approve', 'Disposition', true],
  ['officer', 'read', 'Inventory', true],
  ['officer', 'read_content', 'Document', false],
  ['officer', 'read', 'AuditEvent', false],
  ['officer', 'read', 'User', false],
  ['staff', 'create', 'Document', true],
  ['staff', 'read', 'Document', true],
  ['staff', 'read', 'Inventory', false],
  ['staff', 'read', 'AuditEvent', false],
  ['staff', 'read', 'User', false],
  ['staff', 'create', 'Series', false],
  ['staff', 'read', 'AccessReview', false],
  ['nobody', 'read', 'Document', false],
  ['nobody', 'read', 'User', false],
  ['nobody', 'read', 'Key', false],
];

describe(AbilityFactory.name, () => {
  const factory = new AbilityFactory();

  const cases = (Object.keys(ACTORS) as ActorName[]).flatMap((a) =>
    (Object.keys(DOCS) as DocName[]).flatMap((d) => DOC_ACTIONS.map((action) => [a, d, action, (DOCUMENT_TABLE[a][d] ?? []).includes(action)] as const)),
  );

  it.each(cases)('%s on %s: %s → %s', (a, d, action, expected) => {
    expect(factory.forActor(ACTORS[a]).can(action, documentSubject(DOCS[d]))).toBe(expected);
  });

  it.each(TYPE_TABLE)('%s may %s %s: %s', (a, action, subjectType, expected) => {
    expect(factory.forActor(ACTORS[a]).can(action, subjectType)).toBe(expected);
  });

  it('nobody but a handler of that department ever matches a specific document (auditors only its history)', () => {
    for (const [a, who] of Object.entries(ACTORS)) {
      const ability = factory.forActor(who);
      for (const department of ['hr', 'finance', 'records']) {
        for (let classification = 0; classification <= 3; classification++) {
          const specific = documentSubject(doc({ personalData: 'specific', department, classification, ownerId: who.id }));
          const handlerHere = who.designations.includes(Designation.MyNumberHandler) && who.roles.length > 0 && who.departments.includes(department) && classification <= who.clearance;
          for (const action of DOC_ACTIONS.filter((x) => !(x === 'read_history' && who.roles.includes(Role.Auditor)))) {
            if (!handlerHere) expect([a, action, ability.can(action, specific)]).toEqual([a, action, false]);
          }
        }
      }
    }
  });

  it('never grants more than clearance (outside PUBLIC reads) to staff and officers', () => {
    for (const who of [ACTORS.staff, ACTORS.handler, ACTORS.officer, ACTORS.officerHandler]) {
      const ability = factory.forActor(who);
      const above = documentSubject(doc({ classification: who.clearance + 1, department: who.departments[0] }));
      for (const action of DOC_ACTIONS) expect(ability.can(action, above)).toBe(false);
    }
  });

  it('an actor without departments may still read PUBLIC documents as staff but create nothing', () => {
    const ability = factory.forActor(actor('lonely', [Role.Staff], 3, []));
    expect(ability.can('read', documentSubject(doc({ classification: 0 })))).toBe(true);
    expect(ability.can('create', documentSubject(doc({ classification: 0 })))).toBe(false);
  });

  it('the series is the records officers\' field: staff update title, tags and review date only', () => {
    const subject = documentSubject(doc());
    const specific = documentSubject(doc({ personalData: 'specific' }));
    for (const [who, target] of [[ACTORS.staff, subject], [ACTORS.handler, specific]] as const) {
      const ability = factory.forActor(who);
      expect(['title', 'tags', 'reviewDueAt', 'seriesId'].map((f) => ability.can('update', target, f))).toEqual([true, true, true, false]);
    }
    for (const [who, target] of [[ACTORS.officer, subject], [ACTORS.officerHandler, specific]] as const) {
      expect(factory.forActor(who).can('update', target, 'seriesId')).toBe(true);
    }
  });
});
