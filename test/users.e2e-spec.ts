import request from 'supertest';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './support/app';
import { approveGrants, createUser, login, loginAdmin } from './support/auth';

// The e2e project's testTimeout is not applied when files are run by path; scrypt logins on a shared machine need more than 5 s.
jest.setTimeout(60_000);

interface AuditRow {
  actor_id: string | null;
  action: string;
  outcome: string;
  target_id: string | null;
  target_type: string | null;
  details: Record<string, unknown>;
}

describe('User administration (e2e)', () => {
  let t: TestApp;
  let db: DataSource;
  let admin: string;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const headSeq = async (): Promise<string> => ((await db.query(`SELECT seq::text AS seq FROM audit_chain_head`)) as Array<{ seq: string }>)[0].seq;
  const eventsSince = (seq: string, action?: string): Promise<AuditRow[]> =>
    db.query(`SELECT actor_id, action, outcome, target_id, target_type, details FROM audit_events WHERE seq > $1 AND ($2::text IS NULL OR action = $2) ORDER BY seq`, [seq, action ?? null]);
  const userCount = async (): Promise<number> => ((await db.query(`SELECT count(*)::int AS n FROM users`)) as Array<{ n: number }>)[0].n;

  const body = (over: Record<string, unknown> = {}) => ({
    username: 'k.sato',
    password: 'Temporary-Secret-77',
    displayName: '佐藤 健',
    roles: ['staff'],
    clearance: 'CONFIDENTIAL',
    departments: ['hr', 'general-affairs'],
    designations: ['mynumber_handler'],
    ...over,
  });

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    admin = await loginAdmin(t.http);
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates a user (201) with a temporary password, never returning a hash, and audits the grant (the handler designation pending)', async () => {
    const before = await headSeq();
    const res = await request(t.http).post('/api/v1/users').set(bearer(admin)).send(body()).expect(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'k.sato',
      displayName: '佐藤 健',
      roles: ['staff'],
      clearance: 'CONFIDENTIAL',
      departments: ['general-affairs', 'hr'],
      // A.5.3: the My Number designation waits for a second administrator (segregation-of-duties.e2e-spec.ts).
      designations: [],
      pendingGrants: [expect.objectContaining({ privilege: 'designation', value: 'mynumber_handler', status: 'pending' })],
      active: true,
      mustChangePassword: true,
      lastLoginAt: null,
    });
    expect(JSON.stringify(res.body)).not.toMatch(/scrypt|passwordHash|Temporary-Secret-77/);
    const [row] = (await db.query(`SELECT password_hash FROM users WHERE id = $1`, [res.body.id])) as Array<{ password_hash: string }>;
    expect(row.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(row.password_hash).not.toContain('Temporary-Secret-77');
    const [event] = await eventsSince(before, 'user.create');
    expect(event).toMatchObject({ target_id: res.body.id, outcome: 'allowed', details: { username: 'k.sato', roles: ['staff'], clearance: 'CONFIDENTIAL', designations: [], pendingGrants: ['designation:mynumber_handler'] } });
    expect(JSON.stringify(await db.query('SELECT * FROM audit_events'))).not.toContain('Temporary-Secret-77');
  });

  it('accepts a numeric clearance and answers it as a level name', async () => {
    const res = await request(t.http).post('/api/v1/users').set(bearer(admin)).send(body({ username: 'numeric', clearance: 1 })).expect(201);
    expect(res.body.clearance).toBe('INTERNAL');
  });

  it('refuses a duplicate username, case-insensitively, with 409 and writes nothing', async () => {
    const users = await userCount();
    const res = await request(t.http).post('/api/v1/users').set(bearer(admin)).send(body({ username: 'K.Sato' })).expect(409);
    expect(res.body).toMatchObject({ type: 'urn:kura:problem:conflict', status: 409 });
    expect(await userCount()).toBe(users);
  });

  it.each([
    ['an unknown role', { roles: ['superuser'] }, 'roles'],
    ['a bad clearance', { clearance: 'TOP' }, 'clearance'],
    ['an out-of-range clearance', { clearance: 4 }, 'clearance'],
    ['an unknown designation', { designations: ['dpo'] }, 'designations'],
    ['a bad username', { username: 'a b' }, 'username'],
    ['an unknown field', { superuser: true }, 'superuser'],
    ['a common password', { password: 'password1234' }, 'password'],
    ['a short password', { password: 'Short-1' }, 'password'],
  ])('refuses %s with 400 naming the field, writing nothing', async (_what, over, field) => {
    const users = await userCount();
    const res = await request(t.http).post('/api/v1/users').set(bearer(admin)).send(body({ username: 'rejected', ...over })).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await userCount()).toBe(users);
  });

  it('lists and gets users; unknown id 404, malformed id 400', async () => {
    const list = await request(t.http).get('/api/v1/users').set(bearer(admin)).expect(200);
    expect(list.body.items.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['admin', 'k.sato']));
    const id = list.body.items.find((u: { username: string }) => u.username === 'k.sato').id;
    await request(t.http).get(`/api/v1/users/${id}`).set(bearer(admin)).expect(200);
    await request(t.http).get('/api/v1/users/00000000-0000-4000-8000-000000000000').set(bearer(admin)).expect(404);
    await request(t.http).get('/api/v1/users/not-a-uuid').set(bearer(admin)).expect(400);
  });

  it.each([['staff'], ['records_officer'], ['auditor']] as const)('denies %s every user route with 403 and audits the denial', async (role) => {
    const user = await createUser(t.http, admin, { roles: [role] });
    const before = await headSeq();
    await request(t.http).get('/api/v1/users').set(bearer(user.token)).expect(403);
    await request(t.http).get(`/api/v1/users/${user.id}`).set(bearer(user.token)).expect(403);
    await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(user.token)).send({ roles: ['admin'] }).expect(403);
    await request(t.http).post(`/api/v1/users/${user.id}/deactivate`).set(bearer(user.token)).expect(403);
    const users = await userCount();
    const res = await request(t.http).post('/api/v1/users').set(bearer(user.token)).send(body({ username: 'sneaky' })).expect(403);
    expect(res.body).toMatchObject({ type: 'urn:kura:problem:forbidden', status: 403 });
    expect(await userCount()).toBe(users);
    const denials = await eventsSince(before, 'access.denied');
    expect(denials).toHaveLength(5);
    expect(denials[0]).toMatchObject({ actor_id: user.id, outcome: 'denied', details: { route: 'GET /api/v1/users', action: 'read', subject: 'User' } });
    expect(denials[4].details).toEqual({ route: 'POST /api/v1/users', action: 'create', subject: 'User' });
    const [row] = (await db.query(`SELECT roles FROM users WHERE id = $1`, [user.id])) as Array<{ roles: string[] }>;
    expect(row.roles).toEqual([role]);
  });

  it.each([
    ['roles', { roles: ['staff', 'auditor'] }, { roles: { old: ['staff'], new: ['auditor', 'staff'] } }],
    ['clearance', { clearance: 'CONFIDENTIAL' }, { clearance: { old: 'INTERNAL', new: 'CONFIDENTIAL' } }],
    ['departments', { departments: ['finance'] }, { departments: { old: ['general'], new: ['finance'] } }],
  ])('changing %s audits old and new values and ends the user\'s sessions (next request 401)', async (_field, patch, changes) => {
    const user = await createUser(t.http, admin, { roles: ['staff'], clearance: 'INTERNAL', departments: ['general'] });
    const second = await login(t.http, user.username, user.password);
    const before = await headSeq();
    const [{ privileges_changed_at: changedBefore }] = (await db.query(`SELECT privileges_changed_at FROM users WHERE id = $1`, [user.id])) as Array<{ privileges_changed_at: Date }>;
    t.clock.advance(1000);
    const res = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send(patch).expect(200);
    expect(new Date(res.body.privilegesChangedAt).getTime()).toBeGreaterThan(changedBefore.getTime());
    const [event] = await eventsSince(before, 'user.update');
    expect(event).toMatchObject({ target_id: user.id, outcome: 'allowed', details: expect.objectContaining({ changes, sessionsEnded: 2 }) });
    await request(t.http).get('/api/v1/auth/me').set(bearer(user.token)).expect(401);
    await request(t.http).get('/api/v1/auth/me').set(bearer(second)).expect(401);
    const fresh = await login(t.http, user.username, user.password);
    const me = await request(t.http).get('/api/v1/auth/me').set(bearer(fresh)).expect(200);
    expect(me.body).toMatchObject(Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v.new])));
  });

  it.each([
    ['roles', { roles: ['staff', 'records_officer'] }, { roles: { old: ['staff'], new: ['records_officer', 'staff'] } }],
    ['clearance', { clearance: 'SECRET' }, { clearance: { old: 'INTERNAL', new: 'SECRET' } }],
    ['designations', { designations: ['mynumber_handler'] }, { designations: { old: [], new: ['mynumber_handler'] } }],
  ])('a gated %s change waits for a second administrator; the approval audits old and new values and ends the user\'s sessions', async (_field, patch, changes) => {
    const user = await createUser(t.http, admin, { roles: ['staff'], clearance: 'INTERNAL', departments: ['general'] });
    const second = await login(t.http, user.username, user.password);
    const res = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send(patch).expect(200);
    expect(res.body.pendingGrants).toHaveLength(1);
    // Not effective yet: the user's sessions carry on with the old privileges.
    await request(t.http).get('/api/v1/auth/me').set(bearer(user.token)).expect(200);
    const before = await headSeq();
    await approveGrants(t.http, admin, res.body.pendingGrants);
    const [event] = await eventsSince(before, 'user.grant.approve');
    expect(event).toMatchObject({ target_id: user.id, outcome: 'allowed', details: expect.objectContaining({ changes, sessionsEnded: 2 }) });
    await request(t.http).get('/api/v1/auth/me').set(bearer(user.token)).expect(401);
    await request(t.http).get('/api/v1/auth/me').set(bearer(second)).expect(401);
    const fresh = await login(t.http, user.username, user.password);
    const me = await request(t.http).get('/api/v1/auth/me').set(bearer(fresh)).expect(200);
    expect(me.body).toMatchObject(Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v.new])));
  });

  it('a display-name-only change keeps sessions alive and is still audited', async () => {
    const user = await createUser(t.http, admin);
    const before = await headSeq();
    await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ displayName: 'Renamed' }).expect(200);
    await request(t.http).get('/api/v1/auth/me').set(bearer(user.token)).expect(200);
    const [event] = await eventsSince(before, 'user.update');
    expect(event.details).toMatchObject({ changes: { displayName: { old: user.username, new: 'Renamed' } }, sessionsEnded: 0 });
  });

  it('deactivation makes the very next request 401, refuses login, and is audited with the privileges removed', async () => {
    const user = await createUser(t.http, admin, { roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['hr'] });
    await request(t.http).get('/api/v1/auth/me').set(bearer(user.token)).expect(200);
    const before = await headSeq();
    const res = await request(t.http).post(`/api/v1/users/${user.id}/deactivate`).set(bearer(admin)).expect(200);
    expect(res.body).toMatchObject({ active: false, deactivatedAt: expect.any(String) });
    await request(t.http).get('/api/v1/auth/me').set(bearer(user.token)).expect(401);
    await request(t.http).post('/api/v1/auth/login').send({ username: user.username, password: user.password }).expect(401);
    const [event] = await eventsSince(before, 'user.deactivate');
    expect(event).toMatchObject({
      target_id: user.id,
      details: expect.objectContaining({ changes: { active: { old: true, new: false } }, privileges: expect.objectContaining({ roles: ['staff'], clearance: 'CONFIDENTIAL' }), sessionsEnded: 1 }),
    });
    const review = await request(t.http).get('/api/v1/reports/access-review').set(bearer(admin)).expect(200);
    expect(review.body.users.map((u: { id: string }) => u.id)).not.toContain(user.id);

    // Reactivation is a privilege change too.
    await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ active: true }).expect(200);
    await login(t.http, user.username, user.password);
  });

  it('refuses active:false in PATCH (deactivation has its own audited route) and changes nothing', async () => {
    const user = await createUser(t.http, admin);
    const res = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ active: false, displayName: 'Nope' }).expect(400);
    expect(res.body.errors[0].field).toBe('active');
    const after = await request(t.http).get(`/api/v1/users/${user.id}`).set(bearer(admin)).expect(200);
    expect(after.body).toMatchObject({ active: true, displayName: user.username });
  });

  it('an admin password reset makes the password temporary again and ends sessions', async () => {
    const user = await createUser(t.http, admin);
    await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ password: 'Reset-By-Admin-2026' }).expect(200);
    await request(t.http).get('/api/v1/auth/me').set(bearer(user.token)).expect(401);
    const res = await request(t.http).post('/api/v1/auth/login').send({ username: user.username, password: 'Reset-By-Admin-2026' }).expect(200);
    expect(res.body.mustChangePassword).toBe(true);
  });

  it('refuses to deactivate the last active administrator (409) and, as for anyone, a change of their own roles (403), changing nothing', async () => {
    const me = await request(t.http).get('/api/v1/auth/me').set(bearer(admin)).expect(200);
    const others = (await db.query(`SELECT id FROM users WHERE 'admin' = ANY(roles) AND active AND id <> $1`, [me.body.id])) as Array<{ id: string }>;
    for (const other of others) await request(t.http).post(`/api/v1/users/${other.id}/deactivate`).set(bearer(admin)).expect(200);
    await request(t.http).post(`/api/v1/users/${me.body.id}/deactivate`).set(bearer(admin)).expect(409);
    await request(t.http).patch(`/api/v1/users/${me.body.id}`).set(bearer(admin)).send({ roles: ['auditor'] }).expect(403);
    const after = await request(t.http).get('/api/v1/auth/me').set(bearer(admin)).expect(200);
    expect(after.body).toMatchObject({ active: true, roles: ['admin'] });
  });
});
