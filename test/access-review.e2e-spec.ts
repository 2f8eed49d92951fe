import { createHash } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { canonicalJson } from '@kura/common';
import { startTestApp, TestApp } from './support/app';
import { createUser, loginAdmin } from './support/auth';

// The e2e project's testTimeout is not applied when files are run by path; scrypt logins on a shared machine need more than 5 s.
jest.setTimeout(60_000);

describe('Access review (e2e)', () => {
  let t: TestApp;
  let db: DataSource;
  let admin: string;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const headSeq = async (): Promise<string> => ((await db.query(`SELECT seq::text AS seq FROM audit_chain_head`)) as Array<{ seq: string }>)[0].seq;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    admin = await loginAdmin(t.http);
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists every active user with privileges, last login and when privileges last changed', async () => {
    const handler = await createUser(t.http, admin, { roles: ['staff'], clearance: 'SECRET', departments: ['hr'], designations: ['mynumber_handler'] });
    const gone = await createUser(t.http, admin, { roles: ['staff'] });
    await request(t.http).post(`/api/v1/users/${gone.id}/deactivate`).set(bearer(admin)).expect(200);
    const auditor = await createUser(t.http, admin, { roles: ['auditor'], departments: [] });

    const res = await request(t.http).get('/api/v1/reports/access-review').set(bearer(auditor.token)).expect(200);
    expect(res.body).toMatchObject({ generatedAt: expect.any(String), snapshotSha256: expect.stringMatching(/^[0-9a-f]{64}$/), lastSignoff: null });
    const usernames = res.body.users.map((u: { username: string }) => u.username);
    expect(usernames).toEqual(expect.arrayContaining(['admin', handler.username, auditor.username]));
    expect(usernames).not.toContain(gone.username);
    const entry = res.body.users.find((u: { id: string }) => u.id === handler.id);
    expect(entry).toEqual({
      id: handler.id,
      username: handler.username,
      displayName: handler.username,
      roles: ['staff'],
      clearance: 'SECRET',
      departments: ['hr'],
      designations: ['mynumber_handler'],
      lastLoginAt: expect.any(String),
      privilegesChangedAt: expect.any(String),
      mustChangePassword: false,
      createdAt: expect.any(String),
    });
    expect(res.body.snapshotSha256).toBe(createHash('sha256').update(canonicalJson(res.body.users)).digest('hex'));
  });

  it('records an auditor sign-off bound to the reviewed snapshot, audited in the same transaction', async () => {
    const auditor = await createUser(t.http, admin, { roles: ['auditor'], departments: [] });
    const review = await request(t.http).get('/api/v1/reports/access-review').set(bearer(auditor.token)).expect(200);
    const before = await headSeq();
    const res = await request(t.http)
      .post('/api/v1/reports/access-review/signoffs')
      .set(bearer(auditor.token))
      .send({ comment: 'Q4 review: no excess privileges found.' })
      .expect(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      reviewerId: auditor.id,
      reviewerUsername: auditor.username,
      signedAt: expect.any(String),
      comment: 'Q4 review: no excess privileges found.',
      userCount: review.body.users.length,
      snapshotSha256: review.body.snapshotSha256,
    });
    const events = (await db.query(`SELECT action, outcome, actor_id, target_id, details FROM audit_events WHERE seq > $1 AND action = 'access_review.signoff'`, [before])) as Array<Record<string, unknown>>;
    expect(events).toEqual([
      expect.objectContaining({ outcome: 'allowed', actor_id: auditor.id, target_id: res.body.id, details: expect.objectContaining({ snapshotSha256: review.body.snapshotSha256 }) }),
    ]);
    const after = await request(t.http).get('/api/v1/reports/access-review').set(bearer(admin)).expect(200);
    expect(after.body.lastSignoff).toEqual(res.body);
  });

  it('refuses unknown fields in a sign-off with 400 and records nothing', async () => {
    const [{ n: before }] = (await db.query(`SELECT count(*)::int AS n FROM access_review_signoffs`)) as Array<{ n: number }>;
    await request(t.http).post('/api/v1/reports/access-review/signoffs').set(bearer(admin)).send({ approved: true }).expect(400);
    const [{ n: after }] = (await db.query(`SELECT count(*)::int AS n FROM access_review_signoffs`)) as Array<{ n: number }>;
    expect(after).toBe(before);
  });

  it.each([['staff'], ['records_officer']] as const)('denies %s both the report and a sign-off, audited', async (role) => {
    const user = await createUser(t.http, admin, { roles: [role] });
    const before = await headSeq();
    await request(t.http).get('/api/v1/reports/access-review').set(bearer(user.token)).expect(403);
    await request(t.http).post('/api/v1/reports/access-review/signoffs').set(bearer(user.token)).send({}).expect(403);
    const denials = (await db.query(`SELECT details FROM audit_events WHERE seq > $1 AND action = 'access.denied' AND actor_id = $2 ORDER BY seq`, [before, user.id])) as Array<{ details: unknown }>;
    expect(denials.map((d) => d.details)).toEqual([
      { route: 'GET /api/v1/reports/access-review', action: 'read', subject: 'AccessReview' },
      { route: 'POST /api/v1/reports/access-review/signoffs', action: 'create', subject: 'AccessReview' },
    ]);
  });

  it('requires a session', async () => {
    await request(t.http).get('/api/v1/reports/access-review').expect(401);
  });
});
