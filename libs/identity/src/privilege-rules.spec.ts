import { Designation, Role } from './actor';
import { adminConflict, applyGrant, changedFields, splitRequest, stillRequested, type Privileges } from './privilege-rules';

const p = (o: Partial<Privileges> = {}): Privileges => ({ roles: [Role.Staff], clearance: 1, departments: ['hr'], designations: [], ...o });

describe('privilege rules', () => {
  describe(splitRequest.name, () => {
    it('holds back gated privileges the user does not hold and applies the rest', () => {
      const { effective, pending } = splitRequest(p(), p({ roles: [Role.Staff, Role.RecordsOfficer, Role.Auditor], clearance: 3, departments: ['finance'], designations: [Designation.MyNumberHandler] }));
      expect(effective).toEqual(p({ roles: [Role.Auditor, Role.Staff], clearance: 1, departments: ['finance'] }));
      expect(pending).toEqual([
        { privilege: 'role', value: 'records_officer' },
        { privilege: 'designation', value: 'mynumber_handler' },
        { privilege: 'clearance', value: 'SECRET' },
      ]);
    });

    it('keeps gated privileges the user already holds, and lowers at once', () => {
      const holder = p({ roles: [Role.RecordsOfficer], clearance: 3, designations: [Designation.MyNumberHandler] });
      expect(splitRequest(holder, holder)).toEqual({ effective: holder, pending: [] });
      expect(splitRequest(holder, p({ roles: [], clearance: 0, designations: [] }))).toEqual({ effective: p({ roles: [], clearance: 0 }), pending: [] });
    });

    it('gates the admin role too', () => {
      expect(splitRequest(p({ roles: [] }), p({ roles: [Role.Admin] })).pending).toEqual([{ privilege: 'role', value: 'admin' }]);
    });
  });

  describe(adminConflict.name, () => {
    it.each([
      [[Role.Admin], [], null],
      [[Role.Admin, Role.Staff], [], 'roles'],
      [[Role.Admin, Role.RecordsOfficer], [], 'roles'],
      [[Role.Admin, Role.Auditor], [], 'roles'],
      [[Role.Admin], [Designation.MyNumberHandler], 'designations'],
      [[Role.Staff, Role.Auditor, Role.RecordsOfficer], [Designation.MyNumberHandler], null],
    ])('%j with %j → %s', (roles, designations, expected) => {
      expect(adminConflict({ roles, designations })).toBe(expected);
    });
  });

  it('applyGrant adds exactly the granted privilege; stillRequested follows the request', () => {
    expect(applyGrant(p(), { privilege: 'role', value: 'records_officer' }).roles).toEqual(['records_officer', 'staff']);
    expect(applyGrant(p(), { privilege: 'designation', value: 'mynumber_handler' }).designations).toEqual(['mynumber_handler']);
    expect(applyGrant(p(), { privilege: 'clearance', value: 'SECRET' }).clearance).toBe(3);
    expect(changedFields(p(), applyGrant(p(), { privilege: 'clearance', value: 'SECRET' }))).toEqual(['clearance']);
    expect(stillRequested(p({ clearance: 2 }), { privilege: 'clearance', value: 'SECRET' })).toBe(false);
    expect(stillRequested(p({ roles: [Role.RecordsOfficer] }), { privilege: 'role', value: 'records_officer' })).toBe(true);
  });
});
