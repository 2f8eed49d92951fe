import request from 'supertest';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from './support/app';

// The e2e project's testTimeout is not applied when files are run by path; scrypt logins on a shared machine need more than 5 s.
jest.setTimeout(60_000);

describe('First administrator (e2e)', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('without a configured password generates one, prints it once to stderr, and forces a change', async () => {
    const printed: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    let first: TestApp;
    try {
      first = await startTestApp({ env: { BOOTSTRAP_ADMIN_USERNAME: 'root-admin', BOOTSTRAP_ADMIN_PASSWORD: '' } });
    } finally {
      spy.mockRestore();
    }
    apps.push(first);
    const banner = printed.join('');
    const password = /password: (\S+)/.exec(banner)?.[1];
    expect(banner).toContain('username: root-admin');
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    // The secret goes to the console banner only: never to the structured logs or the audit trail.
    expect(first.logs.join('\n')).not.toContain(password);
    const db = first.app.get(DataSource);
    expect(JSON.stringify(await db.query('SELECT * FROM audit_events'))).not.toContain(password);
    const [event] = (await db.query(`SELECT actor_name, details FROM audit_events WHERE action = 'user.create'`)) as Array<{ actor_name: string; details: Record<string, unknown> }>;
    expect(event).toMatchObject({ actor_name: 'system', details: expect.objectContaining({ bootstrap: true, passwordGenerated: true, roles: ['admin'] }) });

    const login = await request(first.http).post('/api/v1/auth/login').send({ username: 'root-admin', password }).expect(200);
    expect(login.body.mustChangePassword).toBe(true);
    await request(first.http).get('/api/v1/users').set('Authorization', `Bearer ${login.body.accessToken}`).expect(403);

    // A second start on the same database creates nothing and prints nothing.
    const again: string[] = [];
    const spy2 = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      again.push(String(chunk));
      return true;
    });
    let second: TestApp;
    try {
      second = await startTestApp({ databaseUrl: first.databaseUrl, s3: first.s3, env: { BOOTSTRAP_ADMIN_USERNAME: 'root-admin', BOOTSTRAP_ADMIN_PASSWORD: '' } });
    } finally {
      spy2.mockRestore();
    }
    apps.push(second);
    expect(again.join('')).not.toContain('password:');
    const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM users')) as Array<{ n: number }>;
    expect(n).toBe(1);
  });

  it('refuses to start with a configured password that fails the policy', async () => {
    await expect(startTestApp({ env: { BOOTSTRAP_ADMIN_PASSWORD: 'password' } })).rejects.toThrow(/BOOTSTRAP_ADMIN_PASSWORD/);
  });
});
