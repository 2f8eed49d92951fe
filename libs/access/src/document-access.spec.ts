import type { EntityManager } from 'typeorm';
import type { AuditEventInput, AuditService } from '@kura/audit';
import { DomainError } from '@kura/common';
import { Designation, Role, type Actor } from '@kura/identity';
import { AbilityFactory, documentSubject } from './ability.factory';
import type { SqlCondition } from './casl-sql';
import { AccessRefusal, DocumentAccess, DocumentAccessRow, DocumentRows } from './document-access';

const doc = (id: string, over: Partial<DocumentAccessRow> = {}): DocumentAccessRow => ({ id, classification: 1, department: 'hr', personalData: 'none', ownerId: 'o', status: 'active', ...over });
const ROWS = [doc('plain'), doc('secret', { classification: 3 }), doc('specific', { personalData: 'specific' })];

/**
 * Rows in memory: the condition of the last `filter` call is evaluated with CASL itself, so
 * this test needs no database (test/documents-access.property.e2e-spec.ts holds the SQL equal).
 */
class FakeRows implements DocumentRows {
  lastFilter: (r: DocumentAccessRow) => boolean = () => false;
  async findById(id: string): Promise<DocumentAccessRow | null> {
    return ROWS.find((r) => r.id === id) ?? null;
  }
  async admitted(ids: string[], _condition: SqlCondition): Promise<Array<{ id: string; admitted: boolean }>> {
    return ROWS.filter((r) => ids.includes(r.id)).map((r) => ({ id: r.id, admitted: this.lastFilter(r) }));
  }
}

const officer: Actor = { id: 'x', username: 'officer', roles: [Role.RecordsOfficer], clearance: 2, departments: ['records'], designations: [], sessionId: 's' };

describe(DocumentAccess.name, () => {
  let recorded: AuditEventInput[];
  let access: DocumentAccess;
  let rows: FakeRows;
  const factory = new AbilityFactory();

  beforeEach(() => {
    recorded = [];
    rows = new FakeRows();
    const audit = { record: async (input: AuditEventInput) => void recorded.push(input) } as unknown as AuditService;
    access = new DocumentAccess(rows, factory, audit);
    // filter(actor, action) is what the rows source receives; evaluate the same action in memory.
    const filter = access.filter.bind(access);
    access.filter = (actor, action = 'read', offset = 0) => {
      rows.lastFilter = (r) => factory.forActor(actor).can(action, documentSubject(r));
      return filter(actor, action, offset);
    };
  });

  it('reuses the ability the guard built for the same actor object', () => {
    expect(access.ability(officer)).toBe(new AbilityFactory().forActor(officer));
    expect(access.ability({ ...officer })).not.toBe(access.ability(officer));
  });

  it('require: hidden and missing both answer 404, audited denied and failed; visible but not allowed 403', async () => {
    await expect(access.require(officer, 'plain', 'read', 'document.read')).resolves.toMatchObject({ id: 'plain' });
    await expect(access.require(officer, 'specific', 'read', 'document.read')).rejects.toMatchObject({ code: 'not-found' });
    await expect(access.require(officer, 'nope', 'read', 'document.read')).rejects.toMatchObject({ code: 'not-found' });
    await expect(access.require(officer, 'plain', 'read_content', 'document.download')).rejects.toMatchObject({ code: 'forbidden' });
    expect(recorded.map((e) => [e.targetId, e.outcome])).toEqual([
      ['specific', 'denied'],
      ['nope', 'failed'],
      ['plain', 'denied'],
    ]);
  });

  it('requireAll inside a transaction defers its audit to auditRefusal (after the rollback)', async () => {
    const manager = {} as EntityManager;
    const error = await access.requireAll(officer, ['plain', 'secret', 'nope'], 'update', 'hold.create', manager).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessRefusal);
    expect(error).toMatchObject({ code: 'not-found', extensions: { documentIds: ['nope', 'secret'] } });
    expect(recorded).toEqual([]);
    await expect(Promise.reject(error as Error).catch((e: unknown) => access.auditRefusal(e))).rejects.toBe(error);
    expect(recorded).toEqual([expect.objectContaining({ action: 'hold.create', outcome: 'denied', targetId: 'secret', details: { reason: 'not-visible', hidden: ['secret'], missing: ['nope'] } })]);
  });

  it('requireCovered says how many documents, never which', async () => {
    const error = (await access.requireCovered(officer, ['plain', 'specific', 'secret'], 'update', 'hold.release', { type: 'Hold', id: 'h' }).catch((e: unknown) => e)) as DomainError;
    expect(error).toMatchObject({ code: 'forbidden', extensions: { withheldDocuments: 2 } });
    expect(JSON.stringify({ detail: error.detail, extensions: error.extensions })).not.toMatch(/specific|secret/);
    expect(recorded).toEqual([expect.objectContaining({ targetType: 'Hold', targetId: 'h', outcome: 'denied', details: expect.objectContaining({ documentIds: ['specific', 'secret'] }) })]);
  });

  it('visibility: what the reader may read, the rest as a count', async () => {
    const handler: Actor = { ...officer, departments: ['hr'], designations: [Designation.MyNumberHandler], clearance: 3 };
    expect(await access.visibility(officer, ['plain', 'secret', 'specific', 'gone'])).toEqual({ visible: new Set(['plain']), withheld: 3 });
    expect(await access.visibility(handler, ['plain', 'secret', 'specific'])).toEqual({ visible: new Set(['plain', 'secret', 'specific']), withheld: 0 });
  });
});
