import { Injectable } from '@nestjs/common';
import { subject } from '@casl/ability';
import type { Actor } from '@kura/identity';
import { AppAbility, buildAbility, DocumentSubject, DocumentSubjectFields } from './access-policy';

/** Builds the per-request CASL ability from the actor's roles, clearance, departments and designations. */
@Injectable()
export class AbilityFactory {
  forActor(actor: Actor): AppAbility {
    return buildAbility(actor);
  }
}

/** Tags a document's fields so CASL matches them against the Document rules. */
export function documentSubject(fields: DocumentSubjectFields): DocumentSubject {
  return subject('Document', { ...fields });
}
