import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { PrivilegeGrantsService } from '@kura/identity';
import { testAppOf, type TestApp } from './app';

type Http = TestApp['http'];

/** The bootstrap administrator every test app starts with (see startTestApp). */
export const ADMIN = { username: 'admin', password: 'Bootstrap-Admin-Pass-1' } as const;

/** Logs in and returns the bearer token; fails the test on anything but 200. */
export async function login(http: Http, username: string, password: string): Promise<string> {
  const res = await request(http).post('/api/v1/auth/login').send({ username, password });
  if (res.status !== 200) throw new Error(`login as ${username} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return (res.body as { accessToken: string }).accessToken;
}

export interface NewTestUser {
  /** Default: a random `user-xxxxxxxx`. */
  username?: string;
  displayName?: string;
  /** Default ['staff']. */
  roles?: Array<'staff' | 'records_officer' | 'auditor' | 'admin'>;
  /** Name or 0–3; default 'INTERNAL'. */
  clearance?: string | number;
  /** Default ['general']. */
  departments?: string[];
  /** e.g. ['mynumber_handler']; default []. */
  designations?: string[];
}

export interface TestUser {
  id: string;
  username: string;
  /** The user's own (changed) password. */
  password: string;
  /** A live bearer token of a session that has already completed the forced password change. */
  token: string;
}

interface PendingGrant {
  id: string;
  requestedById: string;
}

/** Logs in with a temporary password and sets the user's own; returns a token of a session that may use every route. */
export async function completeFirstLogin(http: Http, username: string, temporary: string, password = `Own-${username}-Passphrase-1`): Promise<string> {
  const token = await login(http, username, temporary);
  const changed = await request(http)
    .post('/api/v1/auth/password')
    .set('Authorization', `Bearer ${token}`)
    .send({ currentPassword: temporary, newPassword: password });
  if (changed.status !== 204) throw new Error(`password change for ${username} answered ${changed.status}: ${JSON.stringify(changed.body)}`);
  return token;
}

const approvers = new WeakMap<object, TestUser>();

/**
 * A second administrator for this app, made once the way a new installation gets one: the
 * bootstrap administrator requests it over the API and the operator approves it with the
 * CLI's service (allowed only while no other administrator could approve; docs/access-control.md).
 */
export async function secondAdmin(t: Pick<TestApp, 'app' | 'http'>, requesterToken: string): Promise<TestUser> {
  const cached = approvers.get(t.http as object);
  if (cached) return cached;
  const username = `approver-${randomBytes(4).toString('hex')}`;
  const temporary = `Temp-${randomBytes(9).toString('base64url')}`;
  const created = await request(t.http)
    .post('/api/v1/users')
    .set('Authorization', `Bearer ${requesterToken}`)
    .send({ username, password: temporary, displayName: username, roles: ['admin'], clearance: 'PUBLIC', departments: [], designations: [] });
  if (created.status !== 201) throw new Error(`creating ${username} answered ${created.status}: ${JSON.stringify(created.body)}`);
  for (const grant of (created.body as { pendingGrants: PendingGrant[] }).pendingGrants) {
    await t.app.get(PrivilegeGrantsService).approveByOperator('cli:test-operator', grant.id);
  }
  const password = `Own-${randomBytes(12).toString('base64url')}`;
  const token = await completeFirstLogin(t.http, username, temporary, password);
  const approver = { id: (created.body as { id: string }).id, username, password, token };
  approvers.set(t.http as object, approver);
  return approver;
}

/** Approves grants the way production does: by an administrator other than the one who requested them. */
export async function approveGrants(http: Http, requesterToken: string, grants: PendingGrant[]): Promise<void> {
  if (grants.length === 0) return;
  const second = await secondAdmin(testAppOf(http), requesterToken);
  for (const grant of grants) {
    const approve = (token: string) => request(http).post(`/api/v1/users/grants/${grant.id}/approve`).set('Authorization', `Bearer ${token}`).send({});
    let res = await approve(grant.requestedById === second.id ? await loginAdmin(http) : second.token);
    if (res.status === 401 && grant.requestedById !== second.id) {
      // The cached session expired (a test moved the clock): log in again.
      second.token = await login(http, second.username, second.password);
      res = await approve(second.token);
    }
    if (res.status !== 200) throw new Error(`approving grant ${grant.id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
}

/**
 * Creates a user as the administrator, has a second administrator approve any privilege that
 * needs four eyes (records_officer, mynumber_handler, SECRET, admin), logs in with the temporary
 * password and completes the forced password change, so the returned token works on every
 * route the role allows.
 *
 *   const admin = await login(t.http, ADMIN.username, ADMIN.password);
 *   const clerk = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['hr'] });
 *   await request(t.http).get('/api/v1/documents').set('Authorization', `Bearer ${clerk.token}`);
 */
export async function createUser(http: Http, adminToken: string, spec: NewTestUser = {}): Promise<TestUser> {
  const username = spec.username ?? `user-${randomBytes(4).toString('hex')}`;
  const temporary = `Temp-${randomBytes(9).toString('base64url')}`;
  const created = await request(http)
    .post('/api/v1/users')
    .set('Authorization', `Bearer ${adminToken}`)
    .send({
      username,
      password: temporary,
      displayName: spec.displayName ?? username,
      roles: spec.roles ?? ['staff'],
      clearance: spec.clearance ?? 'INTERNAL',
      departments: spec.departments ?? ['general'],
      designations: spec.designations ?? [],
    });
  if (created.status !== 201) throw new Error(`creating ${username} answered ${created.status}: ${JSON.stringify(created.body)}`);
  await approveGrants(http, adminToken, (created.body as { pendingGrants?: PendingGrant[] }).pendingGrants ?? []);
  const password = `Own-${randomBytes(12).toString('base64url')}`;
  const token = await completeFirstLogin(http, username, temporary, password);
  return { id: (created.body as { id: string }).id, username, password, token };
}

/** Logs in as the bootstrap administrator. */
export function loginAdmin(http: Http): Promise<string> {
  return login(http, ADMIN.username, ADMIN.password);
}
