import type { Actor } from '@kura/identity';
import type { AppAbility } from './access-policy';

/** What the guards attach to an authenticated request. */
export interface AccessRequest {
  actor?: Actor;
  ability?: AppAbility;
}
