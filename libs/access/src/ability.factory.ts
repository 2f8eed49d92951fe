import { Injectable } from '@nestjs/common';
import { subject } from '@casl/ability';
import type { Actor } from '@kura/identity';
import { AppAbility, buildAbility, DocumentSubject, DocumentSubjectFields } from './access-policy';

/**
 * One ability per actor object: the auth guard builds it once per request, and every
 * service asking about the same actor later in that request gets the very same one.
 */
const built = new WeakMap<Actor, AppAbility>();

/** Builds the per-request CASL ability from the actor's roles, clearance, departments and designations. */
@Injectable()
export class AbilityFactory {
  forActor(actor: Actor): AppAbility {
    let ability = built.get(actor);
    if (!ability) built.set(actor, (ability = buildAbility(actor)));
    return ability;
  }
}

/** Tags a document's fields (only those the policy knows, all mapped to SQL) so CASL matches them against the Document rules. */
export function documentSubject(fields: DocumentSubjectFields): DocumentSubject {
  const { id, ownerId, classification, department, personalData, kind, status, tags, seriesId } = fields;
  return subject('Document', { id, ownerId, classification, department, personalData, kind, status, tags, seriesId });
}
