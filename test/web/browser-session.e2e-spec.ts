import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from '../support/app';
import { ADMIN, createUser, loginAdmin } from '../support/auth';

jest.setTimeout(60_000);

interface Cookie {
  name: string;
  value: string;
  attributes: string[];
}

function cookiesOf(res: request.Response): Cookie[] {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  return (raw ?? []).map((line) => {
    const [pair, ...attributes] = line.split(/;\s*/);
    const eq = pair.indexOf('=');
    return { name: pair.slice(0, eq), value: decodeURIComponent(pair.slice(eq + 1)), attributes: attributes.map((a) => a.toLowerCase()) };
  });
}

/** What a browser would send back: the name=value pairs of the cookies it was given. */
function jar(res: request.Response): string {
  return cookiesOf(res)
    .map((c) => `${c.name}=${encodeURIComponent(c.value)}`)
    .join('; ');
}

describe('Browser sessions and the console (e2e)', () => {
  let t: TestApp;
  let db: DataSource;
  let webDir: string;

  const browserLogin = (username: string, password: string) =>
    request(t.http).post('/api/v1/auth/login').send({ username, password, session: 'cookie' });
  const auditRows = (action: string): Promise<Array<{ outcome: string; details: Record<string, unknown> }>> =>
    db.query(`SELECT outcome, details FROM audit_events WHERE action = $1 ORDER BY seq`, [action]);

  beforeAll(async () => {
    webDir = await mkdtemp(path.join(os.tmpdir(), 'kura-web-'));
    await mkdir(path.join(webDir, 'assets'));
    await writeFile(path.join(webDir, 'index.html'), '<!doctype html><html><head><script type="module" src="/assets/app.js"></script></head><body><div id="root"></div></body></html>');
    await writeFile(path.join(webDir, 'assets', 'app.js'), 'console.log("console");');
    t = await startTestApp({ env: { WEB_DIR: webDir, SESSION_IDLE_TIMEOUT_SECONDS: '300' } });
    db = t.app.get(DataSource);
  });
  afterAll(async () => {
    await t.close();
  });

  it('logs a browser in with an HttpOnly, SameSite=Strict cookie and never puts the token in the body', async () => {
    const res = await browserLogin(ADMIN.username, ADMIN.password).expect(200);
    expect(res.body).toEqual({ tokenType: 'Cookie', expiresIn: 900, mustChangePassword: false, csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const cookies = cookiesOf(res);
    const session = cookies.find((c) => c.name === 'kura_session')!;
    const csrf = cookies.find((c) => c.name === 'kura_csrf')!;
    expect(session.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/', 'max-age=900']));
    // Plain HTTP here: `Secure` would make the browser drop the cookie.
    expect(session.attributes).not.toContain('secure');
    expect(csrf.attributes).toEqual(expect.arrayContaining(['samesite=strict', 'path=/']));
    expect(csrf.attributes).not.toContain('httponly');
    expect(csrf.value).toBe(res.body.csrfToken);
    expect(JSON.stringify(res.body)).not.toContain(session.value);
    // The same session table and the same audit as a bearer login.
    const me = await request(t.http).get('/api/v1/auth/me').set('Cookie', jar(res)).expect(200);
    expect(me.body).toMatchObject({ username: 'admin' });
    const logins = await auditRows('auth.login');
    expect(logins.at(-1)).toMatchObject({ outcome: 'allowed' });
    expect(JSON.stringify(await db.query(`SELECT * FROM audit_events`))).not.toContain(session.value);
  });

  it('marks both cookies Secure when the console is reached over TLS', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kura-tls-'));
    await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
    const server = createServer({ key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(path.join(dir, 'cert.pem')) }, t.app.getHttpAdapter().getInstance());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await request(`https://127.0.0.1:${(server.address() as AddressInfo).port}`)
        .post('/api/v1/auth/login').disableTLSCerts().send({ ...ADMIN, session: 'cookie' }).expect(200);
      for (const c of cookiesOf(res)) expect(c.attributes).toEqual(expect.arrayContaining(['secure', 'samesite=strict']));
    } finally {
      server.close();
    }
  });

  it('refuses a login posted by a cross-site form (login CSRF): only JSON is accepted, no cookie is set', async () => {
    // A form can send text/plain or urlencoded without a preflight, never application/json.
    const res = await request(t.http).post('/api/v1/auth/login').set('Content-Type', 'text/plain')
      .send(JSON.stringify({ username: ADMIN.username, password: ADMIN.password, session: 'cookie' }));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.headers['set-cookie']).toBeUndefined();
    const form = await request(t.http).post('/api/v1/auth/login').type('form').send({ username: ADMIN.username, password: ADMIN.password, session: 'cookie' });
    expect(form.status).toBeGreaterThanOrEqual(400);
    expect(form.headers['set-cookie']).toBeUndefined();
  });

  it('refuses an unsafe cookie request without the CSRF header, audits it, and changes nothing', async () => {
    const login = await browserLogin(ADMIN.username, ADMIN.password).expect(200);
    const cookie = jar(login);
    const before = (await db.query(`SELECT count(*)::int AS n FROM users`)) as Array<{ n: number }>;
    const body = { username: 'forged-user', password: 'Forged-Password-123', displayName: 'x', roles: ['admin'], clearance: 'SECRET', departments: ['x'], designations: [] };
    const forged = await request(t.http).post('/api/v1/users').set('Cookie', cookie).send(body).expect(403);
    expect(forged.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(forged.body.detail).toMatch(/X-CSRF-Token/);
    const wrong = await request(t.http).post('/api/v1/users').set('Cookie', cookie).set('X-CSRF-Token', 'A'.repeat(43)).send(body).expect(403);
    expect(wrong.body.status).toBe(403);
    expect(await db.query(`SELECT count(*)::int AS n FROM users`)).toEqual(before);
    expect((await auditRows('access.denied')).filter((r) => r.details.reason === 'csrf')).toHaveLength(2);
    // Logout is unsafe too: a forged one does not end the session.
    await request(t.http).post('/api/v1/auth/logout').set('Cookie', cookie).expect(403);
    await request(t.http).get('/api/v1/auth/me').set('Cookie', cookie).expect(200);
    // With the header our own page sends, the same request works.
    await request(t.http).post('/api/v1/users').set('Cookie', cookie).set('X-CSRF-Token', login.body.csrfToken).send({ ...body, username: 'real-user', roles: ['staff'], clearance: 'INTERNAL' }).expect(201);
  });

  it('ends the cookie session on logout and clears both cookies', async () => {
    const login = await browserLogin(ADMIN.username, ADMIN.password).expect(200);
    const cookie = jar(login);
    const out = await request(t.http).post('/api/v1/auth/logout').set('Cookie', cookie).set('X-CSRF-Token', login.body.csrfToken).expect(204);
    const cleared = cookiesOf(out);
    expect(cleared.map((c) => [c.name, c.value])).toEqual([
      ['kura_session', ''],
      ['kura_csrf', ''],
    ]);
    await request(t.http).get('/api/v1/auth/me').set('Cookie', cookie).expect(401);
  });

  it('applies the idle timeout, deactivation and the forced first password change to cookie sessions', async () => {
    const admin = await loginAdmin(t.http);
    const clerk = await createUser(t.http, admin, { roles: ['staff'] });
    const login = await browserLogin(clerk.username, clerk.password).expect(200);
    const cookie = jar(login);
    await request(t.http).get('/api/v1/documents').set('Cookie', cookie).expect(200);
    t.clock.advance(301_000);
    await request(t.http).get('/api/v1/documents').set('Cookie', cookie).expect(401);

    // Revocation: deactivating the user ends their browser session at once.
    const again = await browserLogin(clerk.username, clerk.password).expect(200);
    await request(t.http).get('/api/v1/documents').set('Cookie', jar(again)).expect(200);
    const admin2 = await loginAdmin(t.http);
    await request(t.http).post(`/api/v1/users/${clerk.id}/deactivate`).set('Authorization', `Bearer ${admin2}`).expect(200);
    await request(t.http).get('/api/v1/documents').set('Cookie', jar(again)).expect(401);

    // A new user's first browser login must change the temporary password before anything else.
    const created = await request(t.http).post('/api/v1/users').set('Authorization', `Bearer ${admin2}`)
      .send({ username: 'first-timer', password: 'Temporary-Pass-42', displayName: 'First', roles: ['staff'], clearance: 'INTERNAL', departments: ['general'], designations: [] })
      .expect(201);
    expect(created.body.mustChangePassword).toBe(true);
    const first = await browserLogin('first-timer', 'Temporary-Pass-42').expect(200);
    expect(first.body.mustChangePassword).toBe(true);
    await request(t.http).get('/api/v1/documents').set('Cookie', jar(first)).expect(403);
    await request(t.http).post('/api/v1/auth/password').set('Cookie', jar(first)).set('X-CSRF-Token', first.body.csrfToken)
      .send({ currentPassword: 'Temporary-Pass-42', newPassword: 'My-Own-Long-Passphrase-9' }).expect(204);
    await request(t.http).get('/api/v1/documents').set('Cookie', jar(first)).expect(200);
  });

  it('serves the console at / and at unknown non-API paths under a strict CSP; unknown API paths stay problem+json', async () => {
    for (const p of ['/', '/documents', '/documents/9b2c7f0e-0000-4000-8000-000000000000', '/some/deep/link?x=1']) {
      const res = await request(t.http).get(p).expect(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toContain('<div id="root">');
      const csp = res.headers['content-security-policy'] as string;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
    const asset = await request(t.http).get('/assets/app.js').expect(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
    await request(t.http).get('/assets/missing.js').expect(404);
    await request(t.http).get('/..%2f..%2fetc%2fpasswd').expect((r) => expect(r.text).not.toContain('root:'));
    const api = await request(t.http).get('/api/v1/no-such-route').expect(404);
    expect(api.headers['content-type']).toMatch(/application\/problem\+json/);
    // The API keeps answering JSON, not the console.
    await request(t.http).get('/api/v1/health/live').expect(200).expect('Content-Type', /json/);
  });
});
