import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import request from 'supertest';
import { IS_AUTHENTICATED_ONLY, IS_PUBLIC, POLICY, PolicyRequirement } from '@kura/access';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin } from './support/auth';

// The e2e project's testTimeout is not applied when files are run by path; scrypt logins on a shared machine need more than 5 s.
jest.setTimeout(60_000);

interface Route {
  method: string;
  path: string;
  handler: string;
  isPublic: boolean;
  authenticatedOnly: boolean;
  policy?: PolicyRequirement;
}

function join(...parts: Array<string | string[] | undefined>): string {
  const segments = parts.flatMap((p) => (Array.isArray(p) ? p[0] : p) ?? '').flatMap((p) => p.split('/')).filter(Boolean);
  return '/' + segments.join('/');
}

/** Every route Nest registered, with the access markers found on its handler or controller. */
function walkRoutes(t: TestApp): Route[] {
  const routes: Route[] = [];
  const seen = new Set<unknown>();
  for (const mod of t.app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!controller || seen.has(controller)) continue;
      seen.add(controller);
      const base = Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined;
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const fn = proto[name];
        if (name === 'constructor' || typeof fn !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
        if (method === undefined) continue;
        const meta = <T>(key: string): T | undefined => (Reflect.getMetadata(key, fn) ?? Reflect.getMetadata(key, controller)) as T | undefined;
        routes.push({
          method: RequestMethod[method],
          path: join('api/v1', base, Reflect.getMetadata(PATH_METADATA, fn) as string),
          handler: `${controller.name}.${name}`,
          isPublic: meta<boolean>(IS_PUBLIC) === true,
          authenticatedOnly: meta<boolean>(IS_AUTHENTICATED_ONLY) === true,
          policy: meta<PolicyRequirement>(POLICY),
        });
      }
    }
  }
  return routes;
}

const concrete = (path: string) => path.replace(/:[A-Za-z]+/g, (p) => (p === ':n' || p === ':version' ? '1' : '00000000-0000-4000-8000-000000000000'));

describe('Route access declarations (e2e)', () => {
  let t: TestApp;
  let routes: Route[];

  beforeAll(async () => {
    t = await startTestApp();
    routes = walkRoutes(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('finds the routes (sanity: the walk sees the known ones)', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining(['POST /api/v1/auth/login', 'GET /api/v1/users', 'GET /api/v1/health/live', 'POST /api/v1/reports/access-review/signoffs']));
  });

  it('deny by default: every route declares @Policy, @Public or @Authenticated', () => {
    const undeclared = routes.filter((r) => !r.policy && !r.isPublic && !r.authenticatedOnly).map((r) => `${r.method} ${r.path} (${r.handler})`);
    expect(undeclared).toEqual([]);
  });

  it('no route is both public and policy-guarded (an ambiguous declaration)', () => {
    expect(routes.filter((r) => r.isPublic && (r.policy || r.authenticatedOnly)).map((r) => r.handler)).toEqual([]);
  });

  it('every non-public route answers 401 without a session', async () => {
    const open: string[] = [];
    for (const r of routes.filter((x) => !x.isPublic)) {
      const res = await request(t.http)[r.method.toLowerCase() as 'get'](concrete(r.path)).send({});
      if (res.status !== 401) open.push(`${r.method} ${r.path} → ${res.status}`);
    }
    expect(open).toEqual([]);
  });

  it('every @Policy route answers 403 to a user who holds no role at all', async () => {
    const admin = await loginAdmin(t.http);
    const nobody = await createUser(t.http, admin, { roles: [], departments: [], clearance: 'SECRET', designations: ['mynumber_handler'] });
    const allowed: string[] = [];
    for (const r of routes.filter((x) => x.policy)) {
      const res = await request(t.http)[r.method.toLowerCase() as 'get'](concrete(r.path)).set('Authorization', `Bearer ${nobody.token}`).send({});
      if (res.status !== 403) allowed.push(`${r.method} ${r.path} → ${res.status}`);
    }
    expect(allowed).toEqual([]);
  });
});
