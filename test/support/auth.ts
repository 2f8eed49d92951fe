import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { TestApp } from './app';

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

/**
 * Creates a user as the administrator, logs in with the temporary password and completes
 * the forced password change, so the returned token works on every route the role allows.
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
  const token = await login(http, username, temporary);
  const password = `Own-${randomBytes(12).toString('base64url')}`;
  const changed = await request(http)
    .post('/api/v1/auth/password')
    .set('Authorization', `Bearer ${token}`)
    .send({ currentPassword: temporary, newPassword: password });
  if (changed.status !== 204) throw new Error(`password change for ${username} answered ${changed.status}: ${JSON.stringify(changed.body)}`);
  return { id: (created.body as { id: string }).id, username, password, token };
}

/** Logs in as the bootstrap administrator. */
export function loginAdmin(http: Http): Promise<string> {
  return login(http, ADMIN.username, ADMIN.password);
}
