import { AbilityBuilder, createMongoAbility, type AnyAbility } from '@casl/ability';
import { Injectable } from '@nestjs/common';
import { Designation, Role, type Actor } from '@kura/identity';
import { AbilitySource } from './ability-source';

/**
 * PHASE-1 STAND-IN, deleted when the identity branch's AbilityFactory (libs/access) is
 * merged: the default policy of SPEC §4 so the documents service can be exercised before it.
 */
@Injectable()
export class InterimAbilitySource extends AbilitySource {
  createForActor(actor: Actor): AnyAbility {
    const { can, build } = new AbilityBuilder(createMongoAbility);
    const handler = actor.designations.includes(Designation.MyNumberHandler);
    const markings = handler ? ['none', 'personal', 'specific'] : ['none', 'personal'];
    const mine = { department: { $in: actor.departments }, classification: { $lte: actor.clearance }, personalData: { $in: markings } };
    if (actor.roles.includes(Role.Staff)) {
      can(['create', 'read', 'read_content', 'version', 'update'], 'Document', mine);
      can(['read', 'read_content'], 'Document', { classification: 0, personalData: { $in: markings } });
      can('reclassify', 'Document', { ...mine, ownerId: actor.id });
    }
    if (actor.roles.includes(Role.RecordsOfficer)) {
      can(['read', 'reclassify', 'downgrade'], 'Document', { classification: { $lte: actor.clearance }, personalData: { $in: markings } });
      can('read', 'Inventory');
    }
    if (actor.roles.includes(Role.Auditor)) {
      can('read', 'Document', { personalData: { $in: markings } });
      can('read', ['Inventory', 'AuditEvent']);
    }
    return build();
  }
}
