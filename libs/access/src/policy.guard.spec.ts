import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuditEventInput, AuditService } from '@kura/audit';
import { DomainError, ErrorCode } from '@kura/common';
import { Role, type Actor } from '@kura/identity';
import { AbilityFactory } from './ability.factory';
import { Authenticated } from './authenticated.decorator';
import { Policy } from './policy.decorator';
import { PolicyGuard } from './policy.guard';
import { Public } from './public.decorator';

class Routes {
  undeclared(): void {}
  @Public() open(): void {}
  @Authenticated() own(): void {}
  @Policy('create', 'User') createUser(): void {}
  @Policy('read', 'AuditEvent') readAudit(): void {}
}

const admin: Actor = { id: 'a', username: 'root', roles: [Role.Admin], clearance: 0, departments: [], designations: [], sessionId: 's' };

function context(handler: keyof Routes, actor?: Actor): ExecutionContext {
  const req = { method: 'GET', path: `/x/${handler}`, route: { path: `/x/${handler}` }, actor, ability: actor && new AbilityFactory().forActor(actor) };
  return {
    getType: () => 'http',
    getHandler: () => Routes.prototype[handler],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

describe(PolicyGuard.name, () => {
  let recorded: AuditEventInput[];
  let guard: PolicyGuard;
  beforeEach(() => {
    recorded = [];
    const audit = { record: async (input: AuditEventInput) => void recorded.push(input) } as unknown as AuditService;
    guard = new PolicyGuard(new Reflector(), audit);
  });

  it('denies a route with no declaration at all (deny by default), audited', async () => {
    await expect(guard.canActivate(context('undeclared', admin))).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    expect(recorded).toEqual([expect.objectContaining({ action: 'access.denied', outcome: 'denied', details: { route: 'GET /x/undeclared', reason: 'route_has_no_policy' } })]);
  });

  it('lets public routes through without an actor', async () => {
    await expect(guard.canActivate(context('open'))).resolves.toBe(true);
  });

  it('lets @Authenticated routes through for any actor', async () => {
    await expect(guard.canActivate(context('own', { ...admin, roles: [] }))).resolves.toBe(true);
  });

  it('checks @Policy against the ability and audits the denial with route, action and subject', async () => {
    await expect(guard.canActivate(context('createUser', admin))).resolves.toBe(true);
    const error = await guard.canActivate(context('readAudit', admin)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(recorded).toEqual([
      expect.objectContaining({ actor: admin, action: 'access.denied', outcome: 'denied', details: { route: 'GET /x/readAudit', action: 'read', subject: 'AuditEvent' } }),
    ]);
  });

  it('refuses a non-public route reached without an actor (401)', async () => {
    await expect(guard.canActivate(context('createUser'))).rejects.toMatchObject({ code: ErrorCode.Unauthenticated });
  });
});
