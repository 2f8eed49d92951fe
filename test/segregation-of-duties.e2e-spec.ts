import request from 'supertest';
import { DataSource } from 'typeorm';
import type { Server } from 'node:http';
import * as os from 'node:os';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PrivilegeGrantsService } from '@kura/identity';
import { CliModule } from '../apps/cli/src/cli.module';
import { runUsersCommand } from '../apps/cli/src/users.command';
import { startTestApp, TestApp } from './support/app';
import { superuser } from './support/audit';
import { completeFirstLogin, createUser, login, loginAdmin, secondAdmin } from './support/auth';

// scrypt logins on a shared machine need more than the default 5 s.
jest.setTimeout(120_000);

interface AuditRow {
  actor_id: string | null;
  actor_name: string;
  action: string;
  outcome: string;
  target_id: string | null;
  details: Record<string, unknown>;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** ISO 27001 A.5.3 / A.5.15–5.18: no one grants themselves privileges, and sensitive grants take two administrators. */
describe('Segregation of duties in user administration (e2e)', () => {
  let t: TestApp;
  let db: DataSource;
  let admin: string;
  let adminId: string;

  const headSeq = async (): Promise<string> => ((await db.query(`SELECT seq::text AS seq FROM audit_chain_head`)) as Array<{ seq: string }>)[0].seq;
  const eventsSince = (seq: string, action?: string): Promise<AuditRow[]> =>
    db.query(`SELECT actor_id, actor_name, action, outcome, target_id, details FROM audit_events WHERE seq > $1 AND ($2::text IS NULL OR action = $2) ORDER BY seq`, [seq, action ?? null]);
  const userRow = async (id: string) =>
    ((await db.query(`SELECT roles, clearance, departments, designations, privileges_changed_at, updated_at FROM users WHERE id = $1`, [id])) as Array<Record<string, unknown>>)[0];
  const grantCount = async (): Promise<number> => ((await db.query(`SELECT count(*)::int AS n FROM privilege_grants`)) as Array<{ n: number }>)[0].n;

  const newUser = (username: string, over: Record<string, unknown> = {}) => ({
    username,
    password: `Temporary-${username}-77`,
    displayName: username,
    roles: ['records_officer'],
    clearance: 'SECRET',
    departments: ['hr'],
    designations: [],
    ...over,
  });

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    admin = await loginAdmin(t.http);
    adminId = (await request(t.http).get('/api/v1/auth/me').set(bearer(admin)).expect(200)).body.id as string;
  });
  afterAll(async () => {
    await t.close();
  });

  // Runs first, while the bootstrap administrator is still the only one (the reproduction).
  describe('a lone administrator', () => {
    let officerA: { id: string; token: string };
    let officerB: { id: string; token: string };

    it('creating two records officers does not make them officers: each grant waits for a second administrator', async () => {
      const before = await headSeq();
      const a = await request(t.http).post('/api/v1/users').set(bearer(admin)).send(newUser('officer-a')).expect(201);
      const b = await request(t.http).post('/api/v1/users').set(bearer(admin)).send(newUser('officer-b')).expect(201);
      for (const res of [a, b]) {
        expect(res.body).toMatchObject({ roles: [], clearance: 'CONFIDENTIAL' });
        expect(res.body.pendingGrants).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ privilege: 'role', value: 'records_officer', status: 'pending', requestedById: adminId, userId: res.body.id }),
            expect.objectContaining({ privilege: 'clearance', value: 'SECRET', status: 'pending', requestedById: adminId, userId: res.body.id }),
          ]),
        );
        expect(res.body.pendingGrants).toHaveLength(2);
        expect(await userRow(res.body.id as string)).toMatchObject({ roles: [], clearance: 2 });
      }
      const requested = await eventsSince(before, 'user.grant.request');
      expect(requested).toHaveLength(4);
      expect(requested.every((e) => e.actor_id === adminId && e.outcome === 'allowed')).toBe(true);

      officerA = { id: a.body.id as string, token: await completeFirstLogin(t.http, 'officer-a', newUser('officer-a').password) };
      officerB = { id: b.body.id as string, token: await completeFirstLogin(t.http, 'officer-b', newUser('officer-b').password) };
      // Not officers yet: the file plan and disposition stay closed to them.
      const series = { code: 'SOD-1', name: 'x', years: 1, months: 0, days: 0, trigger: 'created', disposition: 'destroy', citation: 'x' };
      await request(t.http).post('/api/v1/retention/series').set(bearer(officerA.token)).send(series).expect(403);
      await request(t.http).get('/api/v1/disposition/due').set(bearer(officerB.token)).expect(403);
    });

    it('cannot approve its own requests (403, audited as denied, nothing changes)', async () => {
      const grants = await request(t.http).get('/api/v1/users/grants?status=pending').set(bearer(admin)).expect(200);
      const grant = grants.body.items.find((g: { userId: string }) => g.userId === officerA.id);
      const before = await headSeq();
      const res = await request(t.http).post(`/api/v1/users/grants/${grant.id}/approve`).set(bearer(admin)).send({}).expect(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'urn:kura:problem:forbidden', status: 403 });
      const [denied] = await eventsSince(before, 'user.grant.approve');
      expect(denied).toMatchObject({ actor_id: adminId, outcome: 'denied', target_id: officerA.id, details: expect.objectContaining({ grantId: grant.id }) });
      expect(await userRow(officerA.id)).toMatchObject({ roles: [], clearance: 2 });
      const again = await request(t.http).get('/api/v1/users/grants?status=pending').set(bearer(admin)).expect(200);
      expect(again.body.items.find((g: { id: string }) => g.id === grant.id)).toMatchObject({ status: 'pending' });
    });

    it('a second administrator approves; the grant takes effect and the officer\'s sessions end', async () => {
      const second = await secondAdmin(t, admin);
      const pending = (await request(t.http).get(`/api/v1/users/grants?status=pending&userId=${officerA.id}`).set(bearer(second.token)).expect(200)).body.items as Array<{ id: string }>;
      expect(pending).toHaveLength(2);
      const before = await headSeq();
      for (const g of pending) {
        const res = await request(t.http).post(`/api/v1/users/grants/${g.id}/approve`).set(bearer(second.token)).send({ comment: 'checked the appointment letter' }).expect(200);
        expect(res.body).toMatchObject({ id: g.id, status: 'approved', decidedById: second.id, comment: 'checked the appointment letter' });
      }
      const events = await eventsSince(before, 'user.grant.approve');
      expect(events.map((e) => [e.actor_id, e.outcome, e.target_id])).toEqual([
        [second.id, 'allowed', officerA.id],
        [second.id, 'allowed', officerA.id],
      ]);
      expect(events[0].details).toMatchObject({ requestedBy: 'admin', sessionsEnded: 1 });
      expect(await userRow(officerA.id)).toMatchObject({ roles: ['records_officer'], clearance: 3 });
      await request(t.http).get('/api/v1/auth/me').set(bearer(officerA.token)).expect(401);
      const fresh = await request(t.http).post('/api/v1/auth/login').send({ username: 'officer-a', password: 'Own-officer-a-Passphrase-1' }).expect(200);
      await request(t.http).get('/api/v1/disposition/due').set(bearer(fresh.body.accessToken as string)).expect(200);
      // The decided grant cannot be decided again.
      await request(t.http).post(`/api/v1/users/grants/${pending[0].id}/reject`).set(bearer(second.token)).send({}).expect(409);
    });

    it('a rejected grant never takes effect and is audited', async () => {
      const second = await secondAdmin(t, admin);
      const [grant] = (await request(t.http).get(`/api/v1/users/grants?status=pending&userId=${officerB.id}`).set(bearer(second.token)).expect(200)).body.items as Array<{ id: string; privilege: string }>;
      const before = await headSeq();
      const res = await request(t.http).post(`/api/v1/users/grants/${grant.id}/reject`).set(bearer(second.token)).send({ comment: 'no appointment on file' }).expect(200);
      expect(res.body).toMatchObject({ status: 'rejected', decidedById: second.id });
      expect(await eventsSince(before, 'user.grant.reject')).toEqual([expect.objectContaining({ actor_id: second.id, outcome: 'allowed', target_id: officerB.id })]);
      expect(await userRow(officerB.id)).toMatchObject({ roles: [], clearance: 2 });
      await request(t.http).post(`/api/v1/users/grants/${grant.id}/approve`).set(bearer(second.token)).send({}).expect(409);
    });
  });

  describe('nobody changes their own privileges', () => {
    it('an admin PATCHing their own account to staff + SECRET + mynumber_handler gets 403, audited, nothing written; they still cannot read My Number records', async () => {
      const handler = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
      const doc = await request(t.http)
        .post('/api/v1/documents')
        .set(bearer(handler.token))
        .field('title', 'マイナンバー台帳')
        .field('kind', 'record')
        .field('classification', 'CONFIDENTIAL')
        .field('department', 'hr')
        .field('personalData', 'specific')
        .attach('file', Buffer.from('個人番号 123456789012'), 'ledger.txt')
        .expect(201);

      const rowBefore = await userRow(adminId);
      const grantsBefore = await grantCount().catch(() => 0);
      const before = await headSeq();
      const res = await request(t.http)
        .patch(`/api/v1/users/${adminId}`)
        .set(bearer(admin))
        .send({ roles: ['admin', 'staff'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] })
        .expect(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'urn:kura:problem:forbidden', status: 403 });
      expect(await userRow(adminId)).toEqual(rowBefore);
      expect(await grantCount().catch(() => 0)).toBe(grantsBefore);
      const events = await eventsSince(before);
      expect(events.filter((e) => e.action !== 'access.denied')).toEqual([
        expect.objectContaining({ action: 'user.update', outcome: 'denied', actor_id: adminId, target_id: adminId, details: expect.objectContaining({ reason: 'own_privileges' }) }),
      ]);
      // The session was not ended, and logging in again gives no content right.
      await request(t.http).get('/api/v1/auth/me').set(bearer(admin)).expect(200);
      const again = await loginAdmin(t.http);
      await request(t.http).get(`/api/v1/documents/${doc.body.id}`).set(bearer(again)).expect(403);
      await request(t.http).get(`/api/v1/documents/${doc.body.id}/content`).set(bearer(again)).expect(403);
    });

    it('each privilege field alone is refused on one\'s own account; a display-name change is not', async () => {
      for (const patch of [{ roles: ['admin', 'auditor'] }, { clearance: 'SECRET' }, { departments: ['finance'] }, { designations: ['mynumber_handler'] }, { roles: [] }]) {
        await request(t.http).patch(`/api/v1/users/${adminId}`).set(bearer(admin)).send(patch).expect(403);
      }
      // Sending one's unchanged privileges alongside a harmless change is not a privilege change.
      await request(t.http).patch(`/api/v1/users/${adminId}`).set(bearer(admin)).send({ displayName: 'Chief Administrator', roles: ['admin'] }).expect(200);
      expect(await userRow(adminId)).toMatchObject({ roles: ['admin'], clearance: 0, departments: [], designations: [] });
    });

    it('the subject of a grant cannot approve it, even when another administrator requested it', async () => {
      const second = await secondAdmin(t, admin);
      const res = await request(t.http).patch(`/api/v1/users/${adminId}`).set(bearer(second.token)).send({ clearance: 'SECRET' }).expect(200);
      const [grant] = res.body.pendingGrants as Array<{ id: string }>;
      await request(t.http).post(`/api/v1/users/grants/${grant.id}/approve`).set(bearer(admin)).send({}).expect(403);
      expect(await userRow(adminId)).toMatchObject({ clearance: 0 });
      await request(t.http).post(`/api/v1/users/grants/${grant.id}/reject`).set(bearer(second.token)).send({}).expect(200);
    });
  });

  describe('admin is a role of its own', () => {
    it.each([
      ['staff', { roles: ['admin', 'staff'] }, 'roles'],
      ['records_officer', { roles: ['admin', 'records_officer'] }, 'roles'],
      ['auditor', { roles: ['admin', 'auditor'] }, 'roles'],
      ['the My Number designation', { roles: ['admin'], designations: ['mynumber_handler'] }, 'designations'],
    ])('refuses admin combined with %s on create (400 naming the field), writing nothing', async (_what, over, field) => {
      const [{ n: users }] = (await db.query(`SELECT count(*)::int AS n FROM users`)) as Array<{ n: number }>;
      const grants = await grantCount();
      const res = await request(t.http).post('/api/v1/users').set(bearer(admin)).send(newUser('mixed-admin', { clearance: 'INTERNAL', ...over })).expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(((await db.query(`SELECT count(*)::int AS n FROM users`)) as Array<{ n: number }>)[0].n).toBe(users);
      expect(await grantCount()).toBe(grants);
    });

    it('refuses making a handler an admin, or an admin a handler, by PATCH (409), writing nothing', async () => {
      const handler = await createUser(t.http, admin, { roles: ['staff'], designations: ['mynumber_handler'] });
      const second = await secondAdmin(t, admin);
      const before = await userRow(handler.id);
      const grants = await grantCount();
      const res = await request(t.http).patch(`/api/v1/users/${handler.id}`).set(bearer(admin)).send({ roles: ['admin'] }).expect(409);
      expect(res.body).toMatchObject({ type: 'urn:kura:problem:conflict', status: 409 });
      await request(t.http).patch(`/api/v1/users/${second.id}`).set(bearer(admin)).send({ designations: ['mynumber_handler'] }).expect(409);
      expect(await userRow(handler.id)).toEqual(before);
      expect(await grantCount()).toBe(grants);
    });
  });

  describe('pending grants', () => {
    it('PATCH adding a gated privilege answers 200 with the grant pending; the rest applies at once', async () => {
      const user = await createUser(t.http, admin, { roles: ['staff'], clearance: 'INTERNAL', departments: ['general'] });
      const res = await request(t.http)
        .patch(`/api/v1/users/${user.id}`)
        .set(bearer(admin))
        .send({ departments: ['hr'], designations: ['mynumber_handler'], clearance: 'SECRET' })
        .expect(200);
      expect(res.body).toMatchObject({ departments: ['hr'], designations: [], clearance: 'INTERNAL' });
      expect(res.body.pendingGrants.map((g: { privilege: string; value: string }) => `${g.privilege}:${g.value}`).sort()).toEqual(['clearance:SECRET', 'designation:mynumber_handler']);
      // The same request again does not duplicate the pending grants.
      const again = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ designations: ['mynumber_handler'] }).expect(200);
      expect(again.body.pendingGrants).toHaveLength(2);
      // Lowering the request withdraws what is no longer asked for.
      const lowered = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ clearance: 'CONFIDENTIAL' }).expect(200);
      expect(lowered.body).toMatchObject({ clearance: 'CONFIDENTIAL' });
      expect(lowered.body.pendingGrants.map((g: { value: string }) => g.value)).toEqual(['mynumber_handler']);
      const withdrawn = (await db.query(`SELECT status FROM privilege_grants WHERE user_id = $1 AND privilege = 'clearance'`, [user.id])) as Array<{ status: string }>;
      expect(withdrawn).toEqual([{ status: 'withdrawn' }]);
    });

    it('a grant expires after PRIVILEGE_GRANT_TTL_HOURS (the injectable clock), then cannot be approved', async () => {
      const user = await createUser(t.http, admin, { roles: ['staff'] });
      const res = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ roles: ['staff', 'records_officer'] }).expect(200);
      const [grant] = res.body.pendingGrants as Array<{ id: string; expiresAt: string; requestedAt: string }>;
      expect(new Date(grant.expiresAt).getTime() - new Date(grant.requestedAt).getTime()).toBe(t.config.privilegeGrantTtlHours * 3600_000);
      const second = await secondAdmin(t, admin);
      t.clock.advance(t.config.privilegeGrantTtlHours * 3600_000 + 1000);
      try {
        // Sessions expired too: log in again.
        const token = await login(t.http, second.username, second.password);
        const before = await headSeq();
        const refused = await request(t.http).post(`/api/v1/users/grants/${grant.id}/approve`).set(bearer(token)).send({}).expect(409);
        expect(refused.body.detail).toMatch(/expired/);
        expect(await userRow(user.id)).toMatchObject({ roles: ['staff'] });
        const expired = await request(t.http).get(`/api/v1/users/grants?status=expired&userId=${user.id}`).set(bearer(token)).expect(200);
        expect(expired.body.items).toEqual([expect.objectContaining({ id: grant.id, status: 'expired' })]);
        expect((await eventsSince(before, 'user.grant.expire')).filter((e) => e.target_id === user.id)).toEqual([expect.objectContaining({ actor_name: 'system', target_id: user.id, details: expect.objectContaining({ grantId: grant.id }) })]);
      } finally {
        t.clock.advance(-(t.config.privilegeGrantTtlHours * 3600_000 + 1000));
      }
    });

    it('two approvals of one grant racing: one applies it, the other answers 409 (the user row lock orders them)', async () => {
      const user = await createUser(t.http, admin, { roles: ['staff'] });
      const res = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ designations: ['mynumber_handler'] }).expect(200);
      const [grant] = res.body.pendingGrants as Array<{ id: string }>;
      const second = await secondAdmin(t, admin);
      const other = await login(t.http, second.username, second.password);
      // Concurrent supertest requests need a server that is already listening (each would otherwise listen and close it).
      const server = t.http as Server;
      if (!server.listening) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const holder = await superuser(t);
      const watcher = await superuser(t);
      try {
        // Hold the user's row so both approvals queue behind the same lock, then let them go.
        await holder.query('BEGIN');
        await holder.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
        const racing = [second.token, other].map((token) => request(t.http).post(`/api/v1/users/grants/${grant.id}/approve`).set(bearer(token)).send({}).then((r) => r.status));
        // Polled from another connection: inside a transaction pg_stat_activity is a snapshot.
        for (let waiting = 0; waiting < 2; ) {
          const { rows } = await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
          waiting = rows[0].n;
        }
        await holder.query('COMMIT');
        expect((await Promise.all(racing)).sort()).toEqual([200, 409]);
      } finally {
        await holder.end();
        await watcher.end();
      }
      const [row] = (await db.query(`SELECT designations FROM users WHERE id = $1`, [user.id])) as Array<{ designations: string[] }>;
      expect(row.designations).toEqual(['mynumber_handler']);
      expect(((await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'user.grant.approve' AND outcome = 'allowed' AND details->>'grantId' = $1`, [grant.id])) as Array<{ n: number }>)[0].n).toBe(1);
    });

    it('deactivating a user withdraws their pending grants', async () => {
      const user = await createUser(t.http, admin, { roles: ['staff'] });
      const res = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ designations: ['mynumber_handler'] }).expect(200);
      await request(t.http).post(`/api/v1/users/${user.id}/deactivate`).set(bearer(admin)).expect(200);
      const [row] = (await db.query(`SELECT status FROM privilege_grants WHERE id = $1`, [res.body.pendingGrants[0].id])) as Array<{ status: string }>;
      expect(row.status).toBe('withdrawn');
    });

    it('the grant routes are admin-only, audited denials', async () => {
      const officer = await createUser(t.http, admin, { roles: ['records_officer'] });
      await request(t.http).get('/api/v1/users/grants').set(bearer(officer.token)).expect(403);
      await request(t.http).post('/api/v1/users/grants/00000000-0000-4000-8000-000000000000/approve').set(bearer(officer.token)).send({}).expect(403);
      const second = await secondAdmin(t, admin);
      await request(t.http).post('/api/v1/users/grants/00000000-0000-4000-8000-000000000000/approve').set(bearer(second.token)).send({}).expect(404);
      await request(t.http).post('/api/v1/users/grants/not-a-uuid/approve').set(bearer(second.token)).send({}).expect(400);
      await request(t.http).get('/api/v1/users/grants?status=maybe').set(bearer(second.token)).expect(400);
      await request(t.http).post(`/api/v1/users/grants/00000000-0000-4000-8000-000000000000/approve`).set(bearer(second.token)).send({ extra: 1 }).expect(400);
    });

    it('the access review shows pending and recently decided grants', async () => {
      const user = await createUser(t.http, admin, { roles: ['staff'] });
      const res = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ clearance: 'SECRET' }).expect(200);
      const review = await request(t.http).get('/api/v1/reports/access-review').set(bearer(admin)).expect(200);
      expect(review.body.pendingGrants).toEqual(expect.arrayContaining([expect.objectContaining({ id: res.body.pendingGrants[0].id, userId: user.id, value: 'SECRET', status: 'pending', requestedByUsername: 'admin' })]));
      expect(review.body.recentGrants).toEqual(expect.arrayContaining([expect.objectContaining({ status: 'approved', decidedById: expect.any(String) })]));
      expect(review.body.recentGrants.every((g: { status: string }) => g.status !== 'pending')).toBe(true);
    });
  });

  describe('reads of who holds what are audited', () => {
    it('GET /users and GET /users/:id each write an audit event', async () => {
      const before = await headSeq();
      const list = await request(t.http).get('/api/v1/users').set(bearer(admin)).expect(200);
      await request(t.http).get(`/api/v1/users/${adminId}`).set(bearer(admin)).expect(200);
      const events = (await eventsSince(before)).filter((e) => e.action.startsWith('user.'));
      expect(events).toEqual([
        expect.objectContaining({ action: 'user.list', outcome: 'allowed', actor_id: adminId, details: expect.objectContaining({ count: list.body.items.length }) }),
        expect.objectContaining({ action: 'user.read', outcome: 'allowed', actor_id: adminId, target_id: adminId }),
      ]);
    });
  });

  describe('the operator path for a lone administrator', () => {
    it('is refused once a second active administrator could approve', async () => {
      await secondAdmin(t, admin);
      const user = await createUser(t.http, admin, { roles: ['staff'] });
      const res = await request(t.http).patch(`/api/v1/users/${user.id}`).set(bearer(admin)).send({ designations: ['mynumber_handler'] }).expect(200);
      await expect(t.app.get(PrivilegeGrantsService).approveByOperator('cli:tester', res.body.pendingGrants[0].id as string)).rejects.toMatchObject({ code: 'forbidden' });
      expect(await userRow(user.id)).toMatchObject({ designations: [] });
    });
  });

  describe('a new installation gets its first privileged users (the operator CLI)', () => {
    let fresh: TestApp;
    let cli: INestApplicationContext;
    beforeAll(async () => {
      fresh = await startTestApp();
      cli = await NestFactory.createApplicationContext(CliModule.register(fresh.config, { databaseUrl: fresh.databaseUrl, s3: fresh.s3 }), { logger: false });
    });
    afterAll(async () => {
      await cli?.close();
      await fresh?.close();
    });
    const run = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runUsersCommand(args, cli, (l) => out.push(l), (l) => err.push(l));
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('the bootstrap admin requests, the operator approves while that admin is alone, then four-eyes is the admins\' again', async () => {
      const boot = await loginAdmin(fresh.http);
      const second = await request(fresh.http).post('/api/v1/users').set(bearer(boot)).send(newUser('second-admin', { roles: ['admin'], clearance: 'PUBLIC', departments: [] })).expect(201);
      const officer = await request(fresh.http).post('/api/v1/users').set(bearer(boot)).send(newUser('first-officer')).expect(201);
      expect(second.body).toMatchObject({ roles: [] });

      const listed = await run('grants');
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.out) as Array<{ id: string }>).map((g) => g.id).sort()).toEqual([...second.body.pendingGrants, ...officer.body.pendingGrants].map((g: { id: string }) => g.id).sort());

      const operator = `cli:${os.userInfo().username}`;
      const approved = await run('approve', second.body.pendingGrants[0].id as string, '--comment', 'appointed by the board, minute 12');
      expect(approved.code).toBe(0);
      expect(JSON.parse(approved.out)).toMatchObject({ status: 'approved', decidedById: null, decidedByUsername: operator });
      const fdb = fresh.app.get(DataSource);
      const [event] = (await fdb.query(`SELECT actor_id, actor_name, outcome, details FROM audit_events WHERE action = 'user.grant.approve' ORDER BY seq`)) as AuditRow[];
      expect(event).toMatchObject({ actor_id: null, actor_name: operator, outcome: 'allowed', details: expect.objectContaining({ operator: true, requestedBy: 'admin' }) });

      // Two administrators now: the operator path is closed, the approval is the second admin's.
      const refused = await run('approve', officer.body.pendingGrants[0].id as string);
      expect(refused.code).toBe(1);
      expect(refused.err).toMatch(/^refused: .*administrator/);
      const [denied] = (await fdb.query(`SELECT actor_name, outcome, details FROM audit_events WHERE action = 'user.grant.approve' AND outcome = 'denied'`)) as AuditRow[];
      expect(denied).toMatchObject({ actor_name: operator, details: expect.objectContaining({ reason: 'second_admin_exists' }) });
      const [row] = (await fdb.query(`SELECT roles FROM users WHERE id = $1`, [officer.body.id])) as Array<{ roles: string[] }>;
      expect(row.roles).toEqual([]);

      const token = await completeFirstLogin(fresh.http, 'second-admin', newUser('second-admin').password);
      for (const g of officer.body.pendingGrants as Array<{ id: string }>) {
        await request(fresh.http).post(`/api/v1/users/grants/${g.id}/approve`).set(bearer(token)).send({}).expect(200);
      }
      const [after] = (await fdb.query(`SELECT roles, clearance FROM users WHERE id = $1`, [officer.body.id])) as Array<{ roles: string[]; clearance: number }>;
      expect(after).toEqual({ roles: ['records_officer'], clearance: 3 });

      expect((await run('approve', 'not-a-uuid').catch((e: Error) => ({ code: -1, out: '', err: e.message }))).err).toMatch(/grant id/);
      expect((await run('frobnicate')).code).toBe(2);
    });
  });
});
