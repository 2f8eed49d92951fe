import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { TestApp } from './app';

export interface TestUser {
  id: string;
  username: string;
  token: string;
}

export interface UserSpec {
  roles: string[];
  clearance: string;
  departments: string[];
  designations?: string[];
  username?: string;
}

const ADMIN = { username: 'admin', password: 'Bootstrap-Admin-Pass-1' };

async function loginChanging(t: TestApp, username: string, password: string): Promise<string> {
  const res = await request(t.http).post('/api/v1/auth/login').send({ username, password });
  if (res.status !== 200 && res.status !== 201) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  if (!res.body.mustChangePassword) return res.body.accessToken as string;
  const next = `${password}-Changed-9`;
  const change = await request(t.http).post('/api/v1/auth/password').set('Authorization', `Bearer ${res.body.accessToken}`).send({ currentPassword: password, newPassword: next });
  if (change.status >= 300) throw new Error(`password change ${username}: ${change.status} ${JSON.stringify(change.body)}`);
  const again = await request(t.http).post('/api/v1/auth/login').send({ username, password: next });
  if (again.status >= 300) throw new Error(`login ${username} after change: ${again.status}`);
  return again.body.accessToken as string;
}

const adminTokens = new WeakMap<TestApp, Promise<string>>();

export function adminToken(t: TestApp): Promise<string> {
  let token = adminTokens.get(t);
  if (!token) {
    token = loginChanging(t, ADMIN.username, ADMIN.password);
    adminTokens.set(t, token);
  }
  return token;
}

/** A user made through the SPEC §5 API (admin creates, the user changes the temporary password). */
export async function userWithToken(t: TestApp, spec: UserSpec): Promise<TestUser> {
  const admin = await adminToken(t);
  const username = spec.username ?? `u${randomBytes(4).toString('hex')}`;
  const password = `Temp-Pass-${randomBytes(6).toString('hex')}`;
  const res = await request(t.http)
    .post('/api/v1/users')
    .set('Authorization', `Bearer ${admin}`)
    .send({ username, password, displayName: username, roles: spec.roles, clearance: spec.clearance, departments: spec.departments, designations: spec.designations ?? [] });
  if (res.status !== 201) throw new Error(`create user: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id as string, username, token: await loginChanging(t, username, password) };
}
