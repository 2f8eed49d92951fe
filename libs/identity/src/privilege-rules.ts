import { DomainError, ErrorCode } from '@kura/common';
import { Designation, Role } from './actor';
import type { GrantPrivilege } from './privilege-grant.entity';

/** The privilege attributes of a user (A.5.18): every change is audited with old and new values. */
export interface Privileges {
  roles: Role[];
  /** 0–3, see Classification. */
  clearance: number;
  departments: string[];
  designations: Designation[];
}

export const PRIVILEGE_FIELDS: ReadonlyArray<keyof Privileges> = ['roles', 'clearance', 'departments', 'designations'];

export const SECRET_CLEARANCE = 3;
/** The highest clearance one administrator may grant alone. */
export const UNGATED_CLEARANCE_MAX = 2;

/**
 * Privileges one administrator may ask for but only a second may grant (SPEC §4). `admin` is
 * here too: otherwise one administrator could appoint a second account of their own and
 * approve every other grant through it.
 */
export const GATED_ROLES: readonly Role[] = [Role.Admin, Role.RecordsOfficer];
export const GATED_DESIGNATIONS: readonly Designation[] = [Designation.MyNumberHandler];

/**
 * What `admin` cannot be combined with. Staff and My Number handlers read content; records
 * officers run disposition and its four-eyes approval; auditors review the administrators'
 * own acts. An administrator who held any of these could grant, use and review the same power.
 */
export const ADMIN_EXCLUDES_ROLES: readonly Role[] = [Role.Staff, Role.RecordsOfficer, Role.Auditor];

export interface RequestedGrant {
  privilege: GrantPrivilege;
  value: string;
}

export function privilegesOf(user: Privileges): Privileges {
  return {
    roles: [...user.roles].sort(),
    clearance: user.clearance,
    departments: [...user.departments].sort(),
    designations: [...user.designations].sort(),
  };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** The fields whose values differ between two privilege sets. */
export function changedFields(before: Privileges, after: Privileges): Array<keyof Privileges> {
  return PRIVILEGE_FIELDS.filter((field) => {
    const a = before[field];
    const b = after[field];
    return Array.isArray(a) ? !sameSet(a, b as string[]) : a !== b;
  });
}

/** Which field makes `admin` incompatible with the rest, or null when the combination is allowed. */
export function adminConflict(p: Pick<Privileges, 'roles' | 'designations'>): 'roles' | 'designations' | null {
  if (!p.roles.includes(Role.Admin)) return null;
  if (p.roles.some((r) => ADMIN_EXCLUDES_ROLES.includes(r))) return 'roles';
  if (p.designations.length > 0) return 'designations';
  return null;
}

/**
 * Splits a requested privilege set into what takes effect now and what needs a second
 * administrator: gated privileges the user does not already hold are held back. A requested
 * SECRET clearance leaves the current clearance in place (a new user starts at CONFIDENTIAL).
 */
export function splitRequest(current: Privileges, requested: Privileges): { effective: Privileges; pending: RequestedGrant[] } {
  const pending: RequestedGrant[] = [];
  const roles = requested.roles.filter((r) => {
    if (GATED_ROLES.includes(r) && !current.roles.includes(r)) {
      pending.push({ privilege: 'role', value: r });
      return false;
    }
    return true;
  });
  const designations = requested.designations.filter((d) => {
    if (GATED_DESIGNATIONS.includes(d) && !current.designations.includes(d)) {
      pending.push({ privilege: 'designation', value: d });
      return false;
    }
    return true;
  });
  let clearance = requested.clearance;
  if (requested.clearance >= SECRET_CLEARANCE && current.clearance < SECRET_CLEARANCE) {
    pending.push({ privilege: 'clearance', value: 'SECRET' });
    clearance = current.clearance;
  }
  return { effective: privilegesOf({ roles, clearance, departments: requested.departments, designations }), pending };
}

/** The privilege set after an approved grant is applied. */
export function applyGrant(current: Privileges, grant: RequestedGrant): Privileges {
  switch (grant.privilege) {
    case 'role':
      return privilegesOf({ ...current, roles: current.roles.includes(grant.value as Role) ? current.roles : [...current.roles, grant.value as Role] });
    case 'designation':
      return privilegesOf({
        ...current,
        designations: current.designations.includes(grant.value as Designation) ? current.designations : [...current.designations, grant.value as Designation],
      });
    case 'clearance':
      return privilegesOf({ ...current, clearance: Math.max(current.clearance, SECRET_CLEARANCE) });
  }
}

/** Whether the requested set still asks for a pending grant (a later request may withdraw it). */
export function stillRequested(requested: Privileges, grant: RequestedGrant): boolean {
  switch (grant.privilege) {
    case 'role':
      return requested.roles.includes(grant.value as Role);
    case 'designation':
      return requested.designations.includes(grant.value as Designation);
    case 'clearance':
      return requested.clearance >= SECRET_CLEARANCE;
  }
}

/**
 * A refusal on segregation-of-duties grounds (403). Carries the reason that the audit event
 * records, so callers can audit the denial after the refused transaction rolled back.
 */
export class SegregationOfDutiesError extends DomainError {
  constructor(
    readonly reason: 'own_privileges' | 'own_request' | 'second_admin_exists',
    detail: string,
  ) {
    super(ErrorCode.Forbidden, detail);
  }
}
