import { classificationName, ClassificationName } from '@kura/common';
import type { Designation, Role } from './actor';
import type { UserEntity } from './user.entity';

/** What the API shows of a user: never the password hash or lockout internals. */
export interface UserView {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  clearance: ClassificationName;
  departments: string[];
  designations: Designation[];
  active: boolean;
  mustChangePassword: boolean;
  locked: boolean;
  lastLoginAt: string | null;
  privilegesChangedAt: string;
  createdAt: string;
  updatedAt: string;
  deactivatedAt: string | null;
}

/** Who a user is and what they hold, as every view shows it (sorted, clearance by name). */
export function privilegeView(user: UserEntity) {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    roles: [...user.roles].sort(),
    clearance: classificationName(user.clearance),
    departments: [...user.departments].sort(),
    designations: [...user.designations].sort(),
  };
}

export function toUserView(user: UserEntity, now: Date): UserView {
  return {
    ...privilegeView(user),
    active: user.active,
    mustChangePassword: user.mustChangePassword,
    locked: user.lockedUntil !== null && user.lockedUntil > now,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    privilegesChangedAt: user.privilegesChangedAt.toISOString(),
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    deactivatedAt: user.deactivatedAt?.toISOString() ?? null,
  };
}
