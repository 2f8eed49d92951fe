import type { AnyAbility } from '@casl/ability';
import type { Actor } from '@kura/identity';

/** Where the documents capability gets a caller's CASL ability (the access policy's one source). */
export abstract class AbilitySource {
  abstract createForActor(actor: Actor): AnyAbility;
}
