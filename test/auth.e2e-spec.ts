import request from 'supertest';
import { DataSource } from 'typeorm';
import { tokenSha256 } from '@kura/identity';
import { startTestApp, TestApp } from './support/app';
import { ADMIN, createUser, login, loginAdmin } from './support/auth';

// The e2e project's testTimeout is not applied when files are run by path; scrypt logins on a shared machine need more than 5 s.
jest.setTimeout(60_000);

interface AuditRow {
  seq: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  outcome: string;
  target_id: string | null;
  details: Record<string, unknown>;
}

describe('Authentication and sessions (e2e)', () => {
  let t: TestApp;
  let db: DataSource;
  let adminToken: string;

  const events = (action: string, afterSeq = '0'): Promise<AuditRow[]> =>
    db.query(`SELECT seq::text, actor_id, actor_name, action, outcome, target_id, details FROM audit_events WHERE action = $1 AND seq > $2 ORDER BY seq`, [action, afterSeq]);
  const headSeq = async (): Promise<string> => ((await db.query(`SELECT seq::text AS seq FROM audit_chain_head`)) as Array<{ seq: string }>)[0].seq;
  const allAuditText = async (): Promise<string> => JSON.stringify(await db.query(`SELECT * FROM audit_events`));

  beforeAll(async () => {
    t = await startTestApp({ env: { ACCESS_TOKEN_TTL_SECONDS: '900', SESSION_IDLE_TIMEOUT_SECONDS: '300', LOCKOUT_THRESHOLD: '5', LOCKOUT_MINUTES: '15' } });
    db = t.app.get(DataSource);
    adminToken = await loginAdmin(t.http);
  });
  // Tests move the clock past token lifetimes: each starts with a fresh administrator session.
  beforeEach(async () => {
    adminToken = await loginAdmin(t.http);
  });
  afterAll(async () => {
    await t.close();
  });

  it('logs in the bootstrap administrator with a bearer token and audits it', async () => {
    const before = await headSeq();
    const res = await request(t.http).post('/api/v1/auth/login').send(ADMIN).expect(200);
    expect(res.body).toEqual({ accessToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), tokenType: 'Bearer', expiresIn: 900, mustChangePassword: false });
    const me = await request(t.http).get('/api/v1/auth/me').set('Authorization', `Bearer ${res.body.accessToken}`).expect(200);
    expect(me.body).toMatchObject({ username: 'admin', roles: ['admin'], clearance: 'PUBLIC', active: true });
    expect(me.body).not.toHaveProperty('passwordHash');
    const [event] = await events('auth.login', before);
    expect(event).toMatchObject({ actor_name: 'admin', outcome: 'allowed', actor_id: me.body.id });
    // Only the SHA-256 of the token is stored.
    const stored = (await db.query(`SELECT token_sha256 FROM sessions`)) as Array<{ token_sha256: string }>;
    expect(stored.every((s) => /^[0-9a-f]{64}$/.test(s.token_sha256))).toBe(true);
    expect(JSON.stringify(stored)).not.toContain(res.body.accessToken);
    expect(await allAuditText()).not.toContain(res.body.accessToken);
  });

  it('answers unknown user, wrong password the same 401 problem and audits the real reason without the password', async () => {
    const before = await headSeq();
    const unknown = await request(t.http).post('/api/v1/auth/login').send({ username: 'nobody-here', password: 'Secret-Guess-123456' }).expect(401);
    const wrong = await request(t.http).post('/api/v1/auth/login').send({ username: 'admin', password: 'Secret-Guess-123456' }).expect(401);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
    expect(strip(unknown.body)).toEqual(strip(wrong.body));
    expect(unknown.body).toMatchObject({ type: 'urn:kura:problem:unauthenticated', status: 401 });
    const failures = await events('auth.login', before);
    expect(failures.map((e) => [e.actor_name, e.outcome, e.details.reason])).toEqual([
      ['nobody-here', 'failed', 'unknown_user'],
      ['admin', 'failed', 'wrong_password'],
    ]);
    expect(await allAuditText()).not.toContain('Secret-Guess-123456');
    // A success resets the counter, so the admin is not drifting towards lockout in later tests.
    await login(t.http, ADMIN.username, ADMIN.password);
  });

  it('rejects unknown fields and missing credentials with 400', async () => {
    await request(t.http).post('/api/v1/auth/login').send({ username: 'admin' }).expect(400);
    await request(t.http).post('/api/v1/auth/login').send({ ...ADMIN, remember: true }).expect(400);
  });

  it('locks an account after 5 failures for 15 minutes, refusing even the right password, and audits it', async () => {
    const user = await createUser(t.http, adminToken, { roles: ['staff'] });
    const before = await headSeq();
    for (let i = 0; i < 5; i++) {
      await request(t.http).post('/api/v1/auth/login').send({ username: user.username, password: `Wrong-password-${i}-xx` }).expect(401);
    }
    const locked = await request(t.http).post('/api/v1/auth/login').send({ username: user.username, password: user.password }).expect(401);
    const unknown = await request(t.http).post('/api/v1/auth/login').send({ username: 'no-such-user-x', password: user.password }).expect(401);
    expect(locked.body.detail).toBe(unknown.body.detail);

    const lockouts = await events('auth.lockout', before);
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]).toMatchObject({ actor_id: user.id, outcome: 'denied', details: expect.objectContaining({ failedAttempts: 5, lockoutMinutes: 15 }) });
    const logins = (await events('auth.login', before)).filter((e) => e.actor_id === user.id);
    expect(logins.map((e) => e.details.reason)).toEqual(['wrong_password', 'wrong_password', 'wrong_password', 'wrong_password', 'wrong_password', 'locked']);
    expect(await allAuditText()).not.toContain(user.password);

    const view = await request(t.http).get(`/api/v1/users/${user.id}`).set('Authorization', `Bearer ${adminToken}`).expect(200);
    expect(view.body.locked).toBe(true);

    t.clock.advance(14 * 60_000);
    await request(t.http).post('/api/v1/auth/login').send({ username: user.username, password: user.password }).expect(401);
    t.clock.advance(61_000);
    await login(t.http, user.username, user.password);
  });

  it('counts concurrent failures exactly: parallel guesses cannot slip past the threshold', async () => {
    const user = await createUser(t.http, adminToken);
    const before = await headSeq();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => request(t.http).post('/api/v1/auth/login').send({ username: user.username, password: `Parallel-guess-${i}-x` })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(401));
    const reasons = (await events('auth.login', before)).filter((e) => e.actor_id === user.id).map((e) => e.details.reason);
    expect(reasons.filter((r) => r === 'wrong_password')).toHaveLength(5);
    expect(reasons.filter((r) => r === 'locked')).toHaveLength(3);
    expect(await events('auth.lockout', before)).toHaveLength(1);
    t.clock.advance(15 * 60_000 + 1000);
  });

  it('expires a token after its lifetime even when used continuously', async () => {
    const user = await createUser(t.http, adminToken);
    const token = await login(t.http, user.username, user.password);
    for (let i = 0; i < 3; i++) {
      t.clock.advance(290_000);
      await request(t.http).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    }
    t.clock.advance(31_000); // 901 s after login
    const before = await headSeq();
    const res = await request(t.http).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    const [event] = await events('auth.session', before);
    expect(event).toMatchObject({ actor_id: user.id, outcome: 'denied', details: { reason: 'expired', route: 'GET /api/v1/auth/me' } });
    expect(JSON.stringify(event)).not.toContain(token);
  });

  it('ends an idle session after the idle timeout; activity resets the idle timer', async () => {
    const user = await createUser(t.http, adminToken);
    const token = await login(t.http, user.username, user.password);
    const me = () => request(t.http).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`);
    // The clock still runs in real time between requests: 10 s of slack for a loaded machine.
    t.clock.advance(290_000);
    await me().expect(200);
    t.clock.advance(290_000); // 580 s since login, but only 290 s since the last request
    await me().expect(200);
    t.clock.advance(300_000); // 880 s: inside the lifetime, 300 s idle
    const before = await headSeq();
    await me().expect(401);
    const [event] = await events('auth.session', before);
    expect(event).toMatchObject({ actor_id: user.id, outcome: 'denied', details: { reason: 'idle' } });
  });

  it('records activity at most once per tenth of the idle timeout, so a burst of requests writes last-seen once', async () => {
    const user = await createUser(t.http, adminToken);
    const token = await login(t.http, user.username, user.password);
    const me = () => request(t.http).get('/api/v1/auth/me').set('Authorization', `Bearer ${token}`).expect(200);
    const lastSeen = async () =>
      ((await db.query(`SELECT last_seen_at FROM sessions WHERE token_sha256 = $1`, [tokenSha256(token)])) as Array<{ last_seen_at: Date }>)[0].last_seen_at.getTime();
    const interval = Math.min(60_000, t.config.sessionIdleTimeoutSeconds * 100);
    const atLogin = await lastSeen();
    // The test clock runs (offset from real time): 5 s of slack for the requests themselves.
    t.clock.advance(interval - 5_000);
    await me();
    await me();
    expect(await lastSeen()).toBe(atLogin);
    t.clock.advance(5_000);
    const from = t.clock.now().getTime();
    await me();
    const to = t.clock.now().getTime();
    const touched = await lastSeen();
    expect(touched).toBeGreaterThanOrEqual(Math.max(from, atLogin + interval));
    expect(touched).toBeLessThanOrEqual(to);
  });

  it('logout ends the session: the same token is refused afterwards', async () => {
    const user = await createUser(t.http, adminToken);
    const before = await headSeq();
    await request(t.http).post('/api/v1/auth/logout').set('Authorization', `Bearer ${user.token}`).expect(204);
    await request(t.http).get('/api/v1/auth/me').set('Authorization', `Bearer ${user.token}`).expect(401);
    await request(t.http).post('/api/v1/auth/logout').set('Authorization', `Bearer ${user.token}`).expect(401);
    const [event] = await events('auth.logout', before);
    expect(event).toMatchObject({ actor_id: user.id, outcome: 'allowed' });
    const [row] = (await db.query(`SELECT count(*)::int AS open FROM sessions WHERE user_id = $1 AND ended_at IS NULL`, [user.id])) as Array<{ open: number }>;
    expect(row.open).toBe(0);
  });

  it('refuses missing, malformed and made-up tokens with 401 problems', async () => {
    await request(t.http).get('/api/v1/auth/me').expect(401);
    await request(t.http).get('/api/v1/auth/me').set('Authorization', 'Bearer not-a-token').expect(401);
    await request(t.http).get('/api/v1/auth/me').set('Authorization', `Bearer ${'A'.repeat(43)}`).expect(401);
    await request(t.http).get('/api/v1/auth/me').set('Authorization', 'Basic YWRtaW46YWRtaW4=').expect(401);
  });

  it('forces a temporary password to be changed before anything else', async () => {
    const created = await request(t.http)
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ username: 'temp-user', password: 'Temporary-Pass-9876', displayName: 'Temp', roles: ['staff'], clearance: 0, departments: ['general'], designations: [] })
      .expect(201);
    const res = await request(t.http).post('/api/v1/auth/login').send({ username: 'temp-user', password: 'Temporary-Pass-9876' }).expect(200);
    expect(res.body.mustChangePassword).toBe(true);
    const token = res.body.accessToken as string;
    const auth = { Authorization: `Bearer ${token}` };
    const blocked = await request(t.http).get('/api/v1/documents').set(auth).expect(403);
    expect(blocked.body).toMatchObject({ type: 'urn:kura:problem:password-change-required', status: 403 });
    await request(t.http).get('/api/v1/auth/me').set(auth).expect(200);

    // Policy rejections are clear problem+json naming the field.
    const cases: Array<[string, RegExp]> = [
      ['short-1', /at least 12 characters/],
      ['password1234', /commonly used/],
      ['TEMP-USER', /at least 12/],
      ['Temporary-Pass-9876', /differ from the current/],
    ];
    for (const [newPassword, message] of cases) {
      const bad = await request(t.http).post('/api/v1/auth/password').set(auth).send({ currentPassword: 'Temporary-Pass-9876', newPassword }).expect(400);
      expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(bad.body).toMatchObject({ type: 'urn:kura:problem:validation', status: 400, detail: 'The password does not meet the password policy.' });
      expect(bad.body.errors[0].field).toBe('newPassword');
      expect(bad.body.errors[0].messages.join(' ')).toMatch(message);
    }
    const wrongCurrent = await request(t.http).post('/api/v1/auth/password').set(auth).send({ currentPassword: 'Not-The-Current-1', newPassword: 'A-Fresh-Passphrase-42' }).expect(400);
    expect(wrongCurrent.body.errors[0].field).toBe('currentPassword');

    const before = await headSeq();
    await request(t.http).post('/api/v1/auth/password').set(auth).send({ currentPassword: 'Temporary-Pass-9876', newPassword: 'A-Fresh-Passphrase-42' }).expect(204);
    await request(t.http).get('/api/v1/documents').set(auth).expect(200);
    const [event] = await events('auth.password_change', before);
    expect(event).toMatchObject({ actor_id: created.body.id, outcome: 'allowed', details: expect.objectContaining({ wasTemporary: true }) });
    expect(await allAuditText()).not.toMatch(/A-Fresh-Passphrase-42|Temporary-Pass-9876/);
    await request(t.http).post('/api/v1/auth/login').send({ username: 'temp-user', password: 'Temporary-Pass-9876' }).expect(401);
    const again = await request(t.http).post('/api/v1/auth/login').send({ username: 'temp-user', password: 'A-Fresh-Passphrase-42' }).expect(200);
    expect(again.body.mustChangePassword).toBe(false);
  });

  it('rejects a password equal to the username', async () => {
    const res = await request(t.http)
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ username: 'long-username-x', password: 'Long-Username-X', displayName: 'X', roles: ['staff'], clearance: 'INTERNAL', departments: ['hr'], designations: [] })
      .expect(400);
    expect(res.body.errors[0]).toEqual({ field: 'password', messages: ['password must not be the same as the username'] });
    const [row] = (await db.query(`SELECT count(*)::int AS n FROM users WHERE username = 'long-username-x'`)) as Array<{ n: number }>;
    expect(row.n).toBe(0);
  });
});
