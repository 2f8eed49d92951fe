import request from 'supertest';
import { AuthRejectionTally } from '@kura/identity';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin, TestUser } from './support/auth';
import { sql } from './support/documents';

jest.setTimeout(120_000);

interface Row {
  seq: string;
  action: string;
  outcome: string;
  actor_id: string | null;
  client_address: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

describe('Login floods and lockout (e2e)', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        // Requests come through a proxy on loopback: X-Forwarded-For names the real client.
        TRUST_PROXY: 'loopback',
        LOCKOUT_THRESHOLD: '3',
        LOCKOUT_MINUTES: '15',
        LOGIN_RATE_LIMIT_PER_ADDRESS: '6',
        LOGIN_RATE_LIMIT_PER_USERNAME: '10',
        LOGIN_RATE_WINDOW_SECONDS: '600',
      },
    });
    admin = await loginAdmin(t.http);
  });
  afterAll(async () => {
    await t.close();
  });

  let n = 0;
  /** A fresh client address per test, so the per-address limit of one test does not spill into the next. */
  const nextAddress = () => `203.0.113.${++n}`;
  const loginFrom = (address: string, username: string, password: string) =>
    request(t.http).post('/api/v1/auth/login').set('X-Forwarded-For', address).send({ username, password });
  const head = async () => (await sql<{ seq: string }>(t.databaseUrl, 'SELECT coalesce(max(seq), 0)::text AS seq FROM audit_events'))[0].seq;
  const eventsSince = (seq: string) =>
    sql<Row>(t.databaseUrl, 'SELECT seq::text, action, outcome, actor_id, client_address, request_id, details FROM audit_events WHERE seq > $1 ORDER BY seq', [seq]);

  it('a client that locks itself out of an account does not lock the owner out from elsewhere', async () => {
    const owner = await createUser(t.http, admin, { roles: ['staff'] });
    const attacker = nextAddress();
    for (let i = 0; i < 3; i++) await loginFrom(attacker, owner.username, `Wrong-guess-${i}-xyz`).expect(401);
    // The attacker's address is locked: even the right password is refused from there…
    await loginFrom(attacker, owner.username, owner.password).expect(401);
    // …while the owner, from their own address, logs in.
    const home = nextAddress();
    const ok = await loginFrom(home, owner.username, owner.password).expect(200);
    expect(ok.body.accessToken).toEqual(expect.any(String));
    const [event] = await sql<Row>(t.databaseUrl, `SELECT client_address FROM audit_events WHERE action = 'auth.login' AND outcome = 'allowed' AND actor_id = $1 ORDER BY seq DESC LIMIT 1`, [owner.id]);
    // trust proxy: the audit names the real client, not the proxy.
    expect(event.client_address).toBe(home);
  });

  it("an administrator's password reset lifts the lockouts of every address, and counts start again", async () => {
    const owner = await createUser(t.http, admin, { roles: ['staff'] });
    const office = nextAddress();
    for (let i = 0; i < 3; i++) await loginFrom(office, owner.username, `Wrong-guess-${i}-xyz`).expect(401);
    await loginFrom(office, owner.username, owner.password).expect(401);
    const temporary = 'Reset-by-the-admin-42';
    await request(t.http).patch(`/api/v1/users/${owner.id}`).set('Authorization', `Bearer ${admin}`).send({ password: temporary }).expect(200);
    expect(await sql(t.databaseUrl, 'SELECT 1 FROM login_failures WHERE username = lower($1)', [owner.username])).toEqual([]);
    const ok = await loginFrom(office, owner.username, temporary).expect(200);
    expect(ok.body.mustChangePassword).toBe(true);
  });

  it('answers 429 problem+json with Retry-After once a client address exceeds its rate, and audits the refusals in aggregate', async () => {
    const address = nextAddress();
    const before = await head();
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await loginFrom(address, 'nobody', 'Some-password-123')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429, 429, 429]);
    const res = await loginFrom(address, 'nobody', 'Some-password-123').expect(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.body).toMatchObject({ status: 429, type: 'urn:kura:problem:too-many-requests' });

    // The first guess and the locking one are appended (with the lockout of this address); the
    // repeat between, refusals while locked and throttled attempts are not appended one by one…
    expect((await eventsSince(before)).filter((e) => e.action === 'auth.login').map((e) => e.details.reason)).toEqual(['unknown_user', 'unknown_user']);
    await t.app.get(AuthRejectionTally).flush();
    // …but one summary records them all.
    const summary = (await eventsSince(before)).filter((e) => e.action === 'auth.rejected');
    expect(summary).toHaveLength(1);
    expect(summary[0].details.groups).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'auth.login', reason: 'unknown_user', clientAddress: address, count: 1 }),
        expect.objectContaining({ action: 'auth.login', reason: 'locked', clientAddress: address, count: 3 }),
        expect.objectContaining({ action: 'auth.throttled', reason: 'address-rate', clientAddress: address, count: 4 }),
      ]),
    );
  });

  it('limits attempts per username across addresses', async () => {
    const statuses: number[] = [];
    // A different address each time: only the per-username limit can stop this.
    for (let i = 0; i < 12; i++) statuses.push((await loginFrom(nextAddress(), 'ghost-user', `Wrong-guess-${i}-xyz`)).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('counts a wrong currentPassword on POST /auth/password toward the lockout', async () => {
    const user = await createUser(t.http, admin, { roles: ['staff'] });
    const address = nextAddress();
    const token = (await loginFrom(address, user.username, user.password).expect(200)).body.accessToken as string;
    const change = (currentPassword: string) =>
      request(t.http).post('/api/v1/auth/password').set('X-Forwarded-For', address).set('Authorization', `Bearer ${token}`).send({ currentPassword, newPassword: 'A-brand-new-passphrase-42' });
    await change('Wrong-current-1-xx').expect(400);
    await change('Wrong-current-2-xx').expect(400);
    await change('Wrong-current-3-xx').expect(423);
    // Locked from this address, for login and for the right current password too.
    await change(user.password).expect(423);
    await loginFrom(address, user.username, user.password).expect(401);
    const failures = await sql<{ n: number }>(t.databaseUrl, `SELECT count(*)::int AS n FROM audit_events WHERE action = 'auth.password_change' AND outcome = 'failed' AND actor_id = $1`, [user.id]);
    // The first wrong password and the one that locked are appended; the one between is counted.
    expect(failures[0].n).toBe(2);
    expect((await sql(t.databaseUrl, `SELECT 1 FROM audit_events WHERE action = 'auth.lockout' AND actor_id = $1`, [user.id])).length).toBe(1);
  });

  it('audits rejected bearer tokens in aggregate, not one chain append each', async () => {
    const tally = t.app.get(AuthRejectionTally);
    await tally.flush();
    const before = await head();
    const address = nextAddress();
    for (let i = 0; i < 20; i++) {
      await request(t.http).get('/api/v1/documents').set('X-Forwarded-For', address).set('Authorization', `Bearer ${'x'.repeat(43)}`).expect(401);
    }
    expect(await eventsSince(before)).toEqual([]);
    await tally.flush();
    const events = await eventsSince(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'auth.rejected', outcome: 'denied', details: expect.objectContaining({ total: 20 }) });
    expect(events[0].details.groups).toEqual([expect.objectContaining({ action: 'auth.session', reason: 'unknown', clientAddress: address, route: 'GET /api/v1/documents', count: 20 })]);
  });

  it('records only the server-generated request id in the audit chain; the client id goes to the log', async () => {
    const clientId = 'client-chosen-id-0001';
    const res = await request(t.http).get('/api/v1/documents').set('X-Request-Id', clientId).set('Authorization', `Bearer ${(await createUser(t.http, admin)).token}`).expect(200);
    const serverId = res.headers['x-request-id'];
    expect(serverId).not.toBe(clientId);
    expect(await sql(t.databaseUrl, 'SELECT 1 FROM audit_events WHERE request_id = $1', [clientId])).toEqual([]);
    expect((await sql(t.databaseUrl, 'SELECT 1 FROM audit_events WHERE request_id = $1', [serverId])).length).toBeGreaterThan(0);
    const line = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.clientRequestId === clientId && l.msg === 'request');
    expect(line).toMatchObject({ requestId: serverId });
  });
});

describe('Client address without TRUST_PROXY (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('ignores X-Forwarded-For unless the proxy is trusted', async () => {
    const user: TestUser = await createUser(t.http, await loginAdmin(t.http));
    await request(t.http).post('/api/v1/auth/login').set('X-Forwarded-For', '198.51.100.7').send({ username: user.username, password: user.password }).expect(200);
    const [row] = await sql<{ client_address: string }>(t.databaseUrl, `SELECT client_address FROM audit_events WHERE action = 'auth.login' AND actor_id = $1 ORDER BY seq DESC LIMIT 1`, [user.id]);
    expect(row.client_address).not.toBe('198.51.100.7');
    expect(row.client_address).toMatch(/127\.0\.0\.1|::1/);
  });
});
