import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PDFDocument } from 'pdf-lib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { AuthRejectionTally } from '@kura/identity';
import { DispositionHooks } from '@kura/retention';
import { startTestApp, TestApp } from '../support/app';
import { ADMIN, createUser, loginAdmin, TestUser } from '../support/auth';
import { Barrier } from '../support/barrier';
import { sql } from '../support/documents';
import { AxeFinding, buildConsole, launchBrowser, newContext, screenshotDir, seriousViolations, signIn, switchLanguage } from './browser';

// One browser, one server, the stories in order: each role as a person would use the console.
jest.setTimeout(120_000);

const run = randomBytes(3).toString('hex');

async function pdf(text: string): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([300, 200]).drawText(text, { x: 20, y: 100, size: 14 });
  return Buffer.from(await doc.save());
}

describe('Web console in a real browser (e2e)', () => {
  let t: TestApp;
  let baseUrl: string;
  let browser: Browser;
  let shots: string;
  const findings: AxeFinding[] = [];
  // Anything the strict CSP blocked, and any uncaught error in the console's own scripts.
  const pageProblems: string[] = [];
  const contexts: BrowserContext[] = [];
  const onExit: Array<() => void> = [];
  let adminToken: string;
  let clerk: TestUser;
  let handler: TestUser;
  let officerA: TestUser;
  let officerB: TestUser;
  let auditor: TestUser;
  let budgetId: string;
  let minutesId: string;
  const specificTitle = `MyNumber-ledger-${run}`;
  let specificId: string;

  const bearer = (u: { token: string }) => ({ Authorization: `Bearer ${u.token}` });
  const open = async (language: 'en' | 'ja' = 'en'): Promise<Page> => {
    const ctx = await newContext(browser, language);
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) pageProblems.push(m.text());
    });
    page.on('pageerror', (e) => pageProblems.push(`${e.name}: ${e.message}`));
    return page;
  };
  // Signed-in pages by username, reused across stories (each sign-in costs a scrypt check).
  const signedIn = new Map<string, Page>();
  const session = async (user: { username: string; password: string }): Promise<Page> => {
    const known = signedIn.get(user.username);
    if (known) return known;
    const page = await open();
    await signIn(page, baseUrl, user.username, user.password);
    signedIn.set(user.username, page);
    return page;
  };
  const axe = async (page: Page, label: string) => findings.push(...(await seriousViolations(page, label)));
  const shoot = async (page: Page, name: string, fullPage = false) => {
    await page.evaluate('window.scrollTo(0, 0)');
    for (const language of ['en', 'ja'] as const) {
      await switchLanguage(page, language);
      await page.screenshot({ path: path.join(shots, `${name}-${language}.png`), fullPage });
    }
    await switchLanguage(page, 'en');
  };
  const visit = async (page: Page, p: string, heading: string) => {
    await page.goto(`${baseUrl}${p}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };

  beforeAll(async () => {
    const [webDir, b, dir] = await Promise.all([buildConsole(), launchBrowser(), screenshotDir()]);
    browser = b;
    shots = dir;
    // With a worker in-process, as `npm start` runs: an approved batch executes within approve's wait.
    t = await startTestApp({ env: { WEB_DIR: webDir }, worker: true });
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    adminToken = await loginAdmin(t.http);
    // One at a time: privileges that need four eyes are approved by a second administrator the helper creates once.
    clerk = await createUser(t.http, adminToken, { username: `clerk-${run}`, displayName: '佐藤 花子', roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['general'] });
    handler = await createUser(t.http, adminToken, { username: `handler-${run}`, roles: ['staff'], clearance: 'CONFIDENTIAL', departments: ['general'], designations: ['mynumber_handler'] });
    officerA = await createUser(t.http, adminToken, { username: `officer-a-${run}`, displayName: '記録 一郎', roles: ['records_officer'], clearance: 'SECRET', departments: ['general'] });
    officerB = await createUser(t.http, adminToken, { username: `officer-b-${run}`, displayName: '記録 二郎', roles: ['records_officer'], clearance: 'SECRET', departments: ['general'] });
    auditor = await createUser(t.http, adminToken, { username: `auditor-${run}`, displayName: '監査 三子', roles: ['auditor'], clearance: 'SECRET', departments: ['audit'] });
    const specific = await request(t.http).post('/api/v1/documents').set(bearer(handler))
      .field('title', specificTitle).field('kind', 'record').field('classification', 'INTERNAL').field('department', 'general').field('personalData', 'specific')
      .attach('file', Buffer.from('個人番号 1234'), 'ledger.txt')
      .expect(201);
    specificId = specific.body.id;
  });

  afterAll(async () => {
    onExit.forEach((f) => f());
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  it('staff: upload two files with progress → find them → new version (and an If-Match conflict explained) → labelled download', async () => {
    const page = await session(clerk);
    await page.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
    await axe(page, 'documents (empty)');

    await visit(page, '/documents/new', 'Upload documents');
    const dir = os.tmpdir();
    const budget = path.join(dir, `Budget-${run}.txt`);
    const minutes = path.join(dir, `Minutes-${run}.pdf`);
    await writeFile(budget, `budget ${run}\n`.repeat(2000));
    await writeFile(minutes, await pdf(`Minutes ${run}`));
    await page.getByTestId('upload-files').setInputFiles([budget, minutes]);
    await page.getByLabel('Classification').selectOption('CONFIDENTIAL');
    await page.getByLabel('Tags').fill(`web, ${run}`);
    await axe(page, 'upload');
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.locator('.upload-done').nth(1).waitFor();
    expect(await page.locator('.upload-done').count()).toBe(2);
    expect(await page.locator('progress').evaluateAll((ps) => ps.map((p) => p.getAttribute('value')))).toEqual(['1', '1']);
    expect(await page.getByTestId('banner-top').textContent()).toContain('秘 CONFIDENTIAL');

    // Find: filter by title and classification, the way a person searches.
    await visit(page, '/documents', 'Documents');
    await page.getByLabel('Title contains').fill(run);
    await page.getByRole('search').getByLabel('Classification').selectOption('CONFIDENTIAL');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=/);
    await page.getByRole('link', { name: `Minutes-${run}` }).waitFor();
    expect(await page.getByTestId('documents-table').locator('tbody tr').count()).toBe(2);
    expect(await page.getByTestId('banner-top').textContent()).toContain('秘 CONFIDENTIAL');
    await shoot(page, 'staff-documents');
    await axe(page, 'documents');

    await page.getByRole('link', { name: `Minutes-${run}` }).click();
    await page.getByRole('heading', { level: 1, name: `Minutes-${run}` }).waitFor();
    minutesId = page.url().split('/').pop()!;
    budgetId = ((await sql<{ id: string }>(t.databaseUrl, `SELECT id FROM documents WHERE title = $1`, [`Budget-${run}`]))[0]).id;
    expect(await page.getByTestId('current-version').textContent()).toBe('1');
    await axe(page, 'document');

    // New version.
    const v2 = path.join(dir, `Minutes-${run}-v2.pdf`);
    await writeFile(v2, await pdf(`Minutes ${run} revised`));
    await page.getByTestId('version-file').setInputFiles(v2);
    await page.getByLabel('Comment', { exact: true }).fill('revised after the meeting');
    await page.getByRole('button', { name: 'Upload new version' }).click();
    await page.getByTestId('current-version').filter({ hasText: /^2$/ }).waitFor();
    await page.getByTestId('versions-table').locator('tbody tr').nth(1).waitFor();

    // Someone else saves version 3 meanwhile: this page still shows 2, so its upload is refused and explained.
    await request(t.http).post(`/api/v1/documents/${minutesId}/versions`).set(bearer(clerk)).set('If-Match', '"v2"')
      .attach('file', await pdf('colleague edit'), 'colleague.pdf').expect(201);
    await page.getByTestId('version-file').setInputFiles(v2);
    await page.getByRole('button', { name: 'Upload new version' }).click();
    const conflict = page.getByTestId('version-conflict');
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain('Nothing was overwritten');
    expect(await conflict.textContent()).not.toContain('412');
    await page.getByRole('button', { name: 'Reload the document' }).click();
    await page.getByTestId('current-version').filter({ hasText: /^3$/ }).waitFor();

    // Labelled download: the PDF the browser saves is stamped, not the bytes uploaded.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-current').click()]);
    const saved = path.join(dir, `download-${run}.pdf`);
    await download.saveAs(saved);
    const bytes = await readFile(saved);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.equals(await pdf('colleague edit'))).toBe(false);
    if (existsSync('/usr/bin/pdftotext')) {
      const { stdout } = await promisify(execFile)('pdftotext', [saved, '-']);
      expect(stdout).toContain('CONFIDENTIAL');
    }

    // Restore makes a new version from an old one; nothing is rewritten.
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await page.getByTestId('current-version').filter({ hasText: /^4$/ }).waitFor();
    await page.getByTestId('versions-table').getByText('Restored from version 1').waitFor();

    // The session cookie is invisible to page scripts; only the CSRF token is readable.
    const visible = (await page.evaluate('document.cookie')) as string;
    expect(visible).toContain('kura_csrf=');
    expect(visible).not.toContain('kura_session');
    const jar = await page.context().cookies();
    expect(jar.find((c) => c.name === 'kura_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
  });

  it('records officer: series → hold → release → propose with dry run → a second officer approves → certificate', async () => {
    const page = await session(officerA);
    await page.getByRole('heading', { level: 1, name: 'Disposition' }).waitFor();

    await visit(page, '/series', 'File plan (record series)');
    const code = `WEB-${run}`;
    await page.getByLabel('Code').fill(code);
    await page.getByLabel('Name', { exact: true }).fill('Console test records');
    await page.getByLabel('Citation').fill('Internal rule 7');
    await page.getByRole('button', { name: 'Create series' }).click();
    await page.getByRole('status').filter({ hasText: `Series ${code} created.` }).waitFor();
    await page.getByTestId('series-table').getByText(code).waitFor();
    await axe(page, 'series');

    // File it in bulk from the document list.
    await visit(page, `/documents?q=Budget-${run}`, 'Documents');
    await page.getByLabel(`Select Budget-${run}`).check();
    await page.getByLabel('Assign the selected documents to a series').selectOption({ label: `${code} — Console test records` });
    await page.getByRole('button', { name: 'Assign (1 selected)' }).click();
    await page.getByRole('status').filter({ hasText: '1 of 1 done' }).waitFor();
    expect((await sql<{ series_id: string | null }>(t.databaseUrl, `SELECT series_id FROM documents WHERE id = $1`, [budgetId]))[0].series_id).not.toBeNull();

    // Filter by series and creation date (the budget's creation day in the browser's time zone, both ends inclusive).
    const createdAt = (await sql<{ created_at: Date }>(t.databaseUrl, `SELECT created_at FROM documents WHERE id = $1`, [budgetId]))[0].created_at.toISOString();
    const localDay = (iso: string, plus: number) =>
      page.evaluate(([at, n]) => {
        const d = new Date(at as string);
        d.setDate(d.getDate() + (n as number));
        return [d.getFullYear(), String(d.getMonth() + 1).padStart(2, '0'), String(d.getDate()).padStart(2, '0')].join('-');
      }, [iso, plus] as const);
    const [day, nextDay] = [await localDay(createdAt, 0), await localDay(createdAt, 1)];
    await visit(page, '/documents', 'Documents');
    const filters = page.getByRole('search');
    await filters.getByRole('option', { name: `${code} — Console test records` }).waitFor({ state: 'attached' });
    await filters.getByLabel('Series', { exact: true }).selectOption({ label: `${code} — Console test records` });
    await filters.getByLabel('Created to (inclusive)').fill(day);
    await filters.getByLabel('Created from').fill(day);
    const listed = (from: string) => page.waitForResponse((r) => r.url().includes('/api/v1/documents?') && r.url().includes('seriesId=') && r.url().includes(`createdFrom=${encodeURIComponent(from)}`));
    const startOf = (d: string) => page.evaluate((s) => { const [y, m, dd] = s.split('-').map(Number); return new Date(y, m - 1, dd).toISOString(); }, d);
    await Promise.all([listed(await startOf(day)), filters.getByRole('button', { name: 'Search' }).click()]);
    await page.getByRole('link', { name: `Budget-${run}` }).waitFor();
    expect(await page.getByTestId('documents-table').locator('tbody tr').count()).toBe(1);
    await axe(page, 'documents filtered by series and date');
    await filters.getByLabel('Created to (inclusive)').fill(nextDay);
    await filters.getByLabel('Created from').fill(nextDay);
    await Promise.all([listed(await startOf(nextDay)), filters.getByRole('button', { name: 'Search' }).click()]);
    await page.getByText('No documents match.').waitFor();
    expect(await page.getByTestId('documents-table').locator('tbody tr').count()).toBe(0);

    await visit(page, '/holds', 'Legal holds');
    await page.getByLabel('Name', { exact: true }).fill(`Audit ${run}`);
    await page.getByLabel('Reason').fill('external audit request');
    await page.getByLabel('Document ids').fill(budgetId);
    await page.getByRole('button', { name: 'Place hold' }).click();
    await page.getByRole('button', { name: `Release hold Audit ${run}` }).waitFor();
    expect((await sql<{ status: string }>(t.databaseUrl, `SELECT status FROM documents WHERE id = $1`, [budgetId]))[0].status).toBe('on_hold');
    await axe(page, 'holds');

    // Amend: rename it and put the minutes under it as well; then release the minutes from it again.
    const docStatus = async (id: string) => (await sql<{ status: string }>(t.databaseUrl, `SELECT status FROM documents WHERE id = $1`, [id]))[0].status;
    await page.getByRole('button', { name: `Amend hold Audit ${run}` }).click();
    const amend = page.locator('form[aria-labelledby=hold-amend]');
    await amend.getByLabel('Name', { exact: true }).fill(`Audit ${run} extended`);
    await amend.getByLabel('Add document ids').fill(minutesId);
    await axe(page, 'hold amendment');
    await amend.getByRole('button', { name: 'Save amendment' }).click();
    await page.getByRole('status').filter({ hasText: `Hold Audit ${run} extended amended.` }).waitFor();
    await page.getByTestId('holds-table').locator('code', { hasText: minutesId.slice(0, 8) }).waitFor();
    expect([await docStatus(budgetId), await docStatus(minutesId)]).toEqual(['on_hold', 'on_hold']);
    await page.getByRole('button', { name: `Amend hold Audit ${run} extended` }).click();
    await amend.getByLabel(`Release ${minutesId}`).check();
    await amend.getByRole('button', { name: 'Save amendment' }).click();
    await page.getByTestId('holds-table').locator('code', { hasText: minutesId.slice(0, 8) }).waitFor({ state: 'detached' });
    expect([await docStatus(budgetId), await docStatus(minutesId)]).toEqual(['on_hold', 'active']);
    const amendEvents = await sql<{ details: { before: { name: string }; after: { name: string }; added: string[]; removed: string[] } }>(
      t.databaseUrl,
      `SELECT details FROM audit_events WHERE action = 'hold.amend' AND actor_id = $1 ORDER BY seq`,
      [officerA.id],
    );
    expect(amendEvents.map((e) => e.details)).toEqual([
      { before: { name: `Audit ${run}`, reason: 'external audit request' }, after: { name: `Audit ${run} extended`, reason: 'external audit request' }, added: [minutesId], removed: [] },
      { before: { name: `Audit ${run} extended`, reason: 'external audit request' }, after: { name: `Audit ${run} extended`, reason: 'external audit request' }, added: [], removed: [minutesId] },
    ]);
    await page.getByRole('button', { name: `Release hold Audit ${run} extended` }).click();
    await page.getByTestId('holds-table').getByText(/^Released/).waitFor();

    // A second record of the same series, due with the budget: the batch has two records to show progress over.
    const seriesId = (await sql<{ series_id: string }>(t.databaseUrl, `SELECT series_id FROM documents WHERE id = $1`, [budgetId]))[0].series_id;
    const ledger = await request(t.http).post('/api/v1/documents').set(bearer(clerk))
      .field('title', `Ledger-${run}`).field('kind', 'record').field('classification', 'INTERNAL').field('department', 'general').field('seriesId', seriesId)
      .attach('file', Buffer.from(`ledger ${run}`), 'ledger.txt')
      .expect(201);
    const ledgerId = ledger.body.id as string;

    await visit(page, '/disposition', 'Disposition');
    await page.getByLabel(`Select Budget-${run}`).check();
    await page.getByLabel(`Select Ledger-${run}`).check();
    await page.getByRole('button', { name: 'Propose batch (2 selected)' }).click();
    const proposal = page.getByTestId('proposal');
    await proposal.waitFor();
    expect(await proposal.textContent()).toMatch(/2 documents, 2 versions/);
    expect(await page.getByTestId('banner-top').textContent()).toContain('秘 CONFIDENTIAL');
    const batchId = (await page.getByTestId('proposal-id').textContent())!;
    // Still due, but in the open batch: not selectable, its batch named.
    const inBatch = page.getByLabel(`Budget-${run} is in open batch ${batchId.slice(0, 8)}`);
    await inBatch.waitFor();
    expect(await inBatch.isDisabled()).toBe(true);
    await page.getByTestId('due-table').getByRole('button', { name: `In batch ${batchId.slice(0, 8)} (Proposed)` }).first().waitFor();
    // Four eyes, visible: the proposer is told another officer must approve.
    await page.getByLabel('Batch id').fill(batchId);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByText('You proposed this batch; another records officer must approve it').waitFor();
    expect(await page.getByRole('button', { name: /^Approve/ }).count()).toBe(0);
    await axe(page, 'disposition');

    // The worker (in this process) is held at a barrier before each record: the test decides when it goes on.
    const hooks = t.worker!.get(DispositionHooks);
    const gates = [new Barrier(), new Barrier()];
    let call = 0;
    hooks.beforeItem = () => gates[Math.min(call++, 1)].wait();
    // Should this story fail half-way, the worker is let go before the app closes.
    onExit.push(() => gates.forEach((g) => g.open()));

    const second = await open();
    await signIn(second, baseUrl, officerB.username, officerB.password);
    await second.getByRole('heading', { level: 1, name: 'Disposition' }).waitFor();
    await second.getByLabel('Batch id').fill(batchId);
    await second.getByRole('button', { name: 'Open', exact: true }).click();
    // A marker on the window: gone if the page were reloaded.
    await second.evaluate('window.kuraSamePage = true');
    // The console asks not to be kept waiting: approve answers 202 at once and the page follows the batch.
    const [approved] = await Promise.all([
      second.waitForResponse((r) => r.url().endsWith(`/api/v1/disposition/batches/${batchId}/approve`)),
      second.getByRole('button', { name: 'Approve and start destruction' }).click(),
    ]);
    expect(approved.status()).toBe(202);
    expect(await approved.request().headerValue('prefer')).toBe('respond-async');
    await gates[0].reached;
    // Held before the first record: 0 of 2, executing, a worker running it (learnt by polling, no reload).
    const bar = second.getByRole('progressbar', { name: 'Records done' });
    await second.getByTestId('batch-worker').filter({ hasText: 'A worker is destroying the records' }).waitFor();
    expect([await bar.getAttribute('aria-valuenow'), await bar.getAttribute('aria-valuemin'), await bar.getAttribute('aria-valuemax')]).toEqual(['0', '0', '2']);
    expect(await bar.getAttribute('aria-valuetext')).toBe('0 of 2');
    expect(await second.getByTestId('batch-state').textContent()).toBe('Executing');
    expect(await second.getByTestId('certificate-json').count()).toBe(0);
    await axe(second, 'disposition executing');

    // One record on, held again: the bar moves by itself.
    gates[0].open();
    await gates[1].reached;
    await second.locator('[role=progressbar][aria-valuenow="1"]').waitFor();
    expect(await second.getByTestId('batch-progress').textContent()).toContain('1 destroyed');
    await shoot(second, 'officer-disposition', true);

    // Opened later from the list (the proposer's page, loaded afresh), an executing batch shows its progress too.
    await visit(page, '/disposition', 'Disposition');
    // The list says how far an executing batch is, compactly.
    expect(await page.getByRole('button', { name: /Executing/ }).filter({ hasText: officerA.username }).first().textContent()).toContain('1 / 2 done');
    await page.getByRole('button', { name: /Executing/ }).filter({ hasText: officerA.username }).first().click();
    await page.locator('[role=progressbar][aria-valuenow="1"][aria-valuemax="2"]').waitFor();
    // The opened batch is in the URL: a reload shows it again.
    expect(new URL(page.url()).searchParams.get('batch')).toBe(batchId);
    await page.reload();
    await page.locator('[role=progressbar][aria-valuenow="1"][aria-valuemax="2"]').waitFor();
    await page.evaluate('window.kuraSamePage = true');
    // A failed poll is shown and retried later (backing off), not every interval; the page recovers by itself.
    const polls: number[] = [];
    let failed = false;
    await page.route(`**/api/v1/disposition/batches/${batchId}`, async (route) => {
      polls.push(Date.now());
      if (failed) return route.continue();
      failed = true;
      return route.fulfill({ status: 503, contentType: 'application/problem+json', headers: { 'Retry-After': '1' }, body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The database is unavailable.' }) });
    });
    await page.getByTestId('batch').getByRole('alert').filter({ hasText: 'The database is unavailable.' }).waitFor();
    await page.getByTestId('batch').getByRole('alert').waitFor({ state: 'detached' });
    expect(polls.length).toBeGreaterThanOrEqual(2);
    expect(polls[1] - polls[0]).toBeGreaterThanOrEqual(2_500);
    await page.unroute(`**/api/v1/disposition/batches/${batchId}`);

    // The proposer leaves for another page (in the app, no reload): that page stops asking.
    const asked = { approver: 0, proposer: 0 };
    const count = (who: keyof typeof asked) => (r: { url(): string }) => {
      if (r.url().endsWith(`/api/v1/disposition/batches/${batchId}`)) asked[who]++;
    };
    await page.getByRole('link', { name: 'Documents', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
    page.on('request', count('proposer'));

    // Released: the approver's page reaches completed by itself and offers the certificate.
    gates[1].open();
    await second.getByTestId('batch-state').filter({ hasText: /^Completed$/ }).waitFor();
    await second.locator('[role=progressbar][aria-valuenow="2"][aria-valuemax="2"]').waitFor();
    await second.getByTestId('certificate-json').waitFor();
    expect(await second.evaluate('window.kuraSamePage')).toBe(true);
    expect(await second.getByTestId('batch').textContent()).toContain(officerA.username);
    // Completed, the approver's page stops asking; the page left behind asked nothing since.
    second.on('request', count('approver'));
    await second.waitForTimeout(3_500);
    expect(asked).toEqual({ approver: 0, proposer: 0 });
    expect(await page.evaluate('window.kuraSamePage')).toBe(true);
    // Back on the batch, the proposer finds it completed with its certificate.
    await page.getByRole('link', { name: 'Disposition', exact: true }).click();
    await page.getByRole('button', { name: /Completed/ }).filter({ hasText: officerA.username }).first().click();
    await page.getByTestId('batch-state').filter({ hasText: /^Completed$/ }).waitFor();
    await page.getByTestId('certificate-json').waitFor();
    const [download] = await Promise.all([second.waitForEvent('download'), second.getByTestId('certificate-json').click()]);
    const certificate = JSON.parse(await readFile((await download.path())!, 'utf8')) as { certificate: Record<string, unknown>; signature: { algorithm: string } };
    expect(certificate.signature.algorithm).toBe('Ed25519');
    expect(JSON.stringify(certificate.certificate)).toContain(budgetId);
    expect(JSON.stringify(certificate.certificate)).toContain(ledgerId);
    expect((await sql<{ status: string }>(t.databaseUrl, `SELECT status FROM documents WHERE id = ANY($1)`, [[budgetId, ledgerId]])).map((r) => r.status)).toEqual(['destroyed', 'destroyed']);
    hooks.beforeItem = () => Promise.resolve();
  });

  it('auditor: filter the trail → export CSV, JSONL and PDF → verify the chain with its last signed checkpoint', async () => {
    const page = await session(auditor);
    await page.getByRole('heading', { level: 1, name: 'Audit trail' }).waitFor();
    await page.getByLabel('Action').fill('document.create');
    await page.getByLabel('Outcome').selectOption('allowed');
    await Promise.all([
      page.waitForResponse((r) => r.url().includes('/api/v1/audit/events') && r.url().includes('action=document.create')),
      page.getByRole('button', { name: 'Search' }).click(),
    ]);
    await page.getByTestId('audit-table').locator('tbody tr').first().waitFor();
    const actions = await page.getByTestId('audit-table').locator('tbody tr td:nth-child(4)').allTextContents();
    expect(actions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(actions)).toEqual(new Set(['document.create']));

    for (const format of ['csv', 'jsonl', 'pdf'] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-${format}`).click()]);
      const body = await readFile((await download.path())!);
      if (format === 'pdf') expect(body.subarray(0, 5).toString()).toBe('%PDF-');
      else {
        expect(body.toString('utf8')).toContain('document.create');
        expect(body.toString('utf8')).not.toContain('auth.login');
      }
    }

    await page.getByRole('button', { name: 'Sign a checkpoint now' }).click();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    const result = page.getByTestId('verify-result');
    await result.waitFor();
    expect(await result.textContent()).toMatch(/The chain is intact: \d+ events checked\./);
    expect(await page.getByTestId('last-checkpoint').textContent()).toMatch(/Last signed checkpoint: event \d+/);
    await shoot(page, 'auditor-audit');
    await axe(page, 'audit');

    // Access review: the auditor signs off the privileges as they stand.
    await visit(page, '/access-review', 'Access review');
    await page.getByTestId('last-signoff').filter({ hasText: 'Not signed off yet.' }).waitFor();
    await page.getByLabel('Findings or remarks').fill('No excess privileges found.');
    await page.getByRole('button', { name: 'Sign off', exact: true }).click();
    await page.getByTestId('last-signoff').filter({ hasText: `Last signed off by ${auditor.username}` }).waitFor();
    await axe(page, 'access review');
  });

  it('admin: creates a user, who signs in with the temporary password and must change it first', async () => {
    const page = await session(ADMIN);
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByLabel('Username').fill(`newbie-${run}`);
    await page.getByLabel('Display name').fill('新人 太郎');
    await page.getByLabel('Departments').fill('general');
    await page.getByRole('button', { name: 'Create user' }).click();
    const created = page.getByTestId('user-created');
    await created.waitFor();
    const temporary = (await created.locator('code').textContent())!;
    await page.getByTestId('users-table').getByText(`newbie-${run}`).waitFor();
    await shoot(page, 'admin-users');
    await axe(page, 'users');

    const newbie = await open('ja');
    await signIn(newbie, baseUrl, `newbie-${run}`, temporary);
    // Japanese by default for a Japanese browser; the forced change comes before anything else.
    await newbie.getByRole('heading', { level: 1, name: 'パスワードの変更' }).waitFor();
    expect(await newbie.getByRole('navigation', { name: 'メイン' }).count()).toBe(0);
    await axe(newbie, 'password change');
    await newbie.getByLabel('現在の（仮）パスワード').fill(temporary);
    await newbie.getByLabel('新しいパスワード', { exact: true }).fill(`Newbie-Own-Pass-${run}-x`);
    await newbie.getByLabel('新しいパスワード（確認）').fill(`Newbie-Own-Pass-${run}-x`);
    await newbie.getByRole('button', { name: 'パスワードを変更' }).click();
    await newbie.getByRole('heading', { level: 1, name: '文書一覧' }).waitFor();
    expect((await sql<{ must_change_password: boolean }>(t.databaseUrl, `SELECT must_change_password FROM users WHERE username = $1`, [`newbie-${run}`]))[0].must_change_password).toBe(false);

    // A privilege change ends the user's browser session on their next request.
    await page.getByRole('button', { name: `Edit newbie-${run}` }).click();
    await page.getByRole('heading', { name: `Edit newbie-${run}` }).waitFor();
    await page.locator('form[aria-labelledby=user-edit]').getByLabel('Clearance').selectOption('CONFIDENTIAL');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('users-table').getByText('秘 CONFIDENTIAL').nth(2).waitFor();
    await newbie.reload();
    await newbie.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
  });

  it('My Number handler: names the purpose (a dialog, by keyboard) → a refused purpose is explained → details → download; the ledger names the purpose', async () => {
    for (const [code, nameJa, nameEn] of [['social-insurance', '社会保険手続', 'Social insurance'], ['withholding-slip', '源泉徴収票作成', 'Withholding slip']]) {
      await request(t.http).post('/api/v1/mynumber/purposes').set(bearer(officerA)).send({ code, nameJa, nameEn }).expect(201);
    }
    await request(t.http).put(`/api/v1/mynumber/documents/${specificId}/purposes`).set(bearer(handler)).send({ purposes: ['withholding-slip'] }).expect(200);

    const page = await session(handler);
    await visit(page, `/documents?q=${encodeURIComponent(specificTitle)}`, 'Documents');
    await page.getByRole('link', { name: specificTitle }).click();
    // Asked before anything is read: nothing about the document was requested yet.
    const dialog = page.getByRole('dialog', { name: 'Purpose of use (My Number)' });
    await dialog.getByRole('radio', { name: /Social insurance/ }).waitFor();
    expect(page.url()).toMatch(/\/documents\?q=/);
    await axe(page, 'purpose dialog');
    // Escape cancels: back on the list, nothing opened; then again.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: specificTitle }).click();
    await dialog.getByRole('radio', { name: /Social insurance/ }).waitFor();
    // By keyboard: the first purpose has the focus; Space picks it, Enter opens.
    expect(await page.evaluate('document.activeElement?.getAttribute("value")')).toBe('social-insurance');
    await page.keyboard.press('Space');
    await page.keyboard.press('Enter');
    // Not a purpose of this document: the server's refusal is shown, with the purposes it permits.
    await page.getByTestId('permitted-purposes').filter({ hasText: 'Withholding slip' }).waitFor();
    expect(await dialog.getByRole('alert').textContent()).toContain('social-insurance');
    expect(await page.getByTestId('document-meta').count()).toBe(0);
    await page.getByRole('radio', { name: /Social insurance/ }).waitFor();
    expect(await page.evaluate('document.activeElement?.getAttribute("value")')).toBe('social-insurance');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: specificTitle }).waitFor();
    await page.getByTestId('current-purpose').filter({ hasText: 'Withholding slip' }).waitFor();
    await page.getByTestId('versions-table').locator('tbody tr').first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-current').click()]);
    expect((await readFile((await download.path())!)).toString('utf8')).toBe('個人番号 1234');

    // The handling ledger (as the auditor reads it) names the purpose of each act, and the refusal.
    const ledger = await request(t.http).get('/api/v1/mynumber/ledger').set(bearer(auditor)).expect(200);
    const lines = (ledger.body.items as Array<{ documentId: string; actorName: string; operation: string; purpose: string | null; outcome: string; reason: string | null }>)
      .filter((l) => l.documentId === specificId && l.actorName === handler.username && l.operation !== 'create')
      .map((l) => [l.operation, l.purpose, l.outcome, l.reason]);
    expect(lines).toEqual(
      expect.arrayContaining([
        ['read', 'social-insurance', 'denied', 'purpose-not-permitted'],
        ['read', 'withholding-slip', 'allowed', null],
        ['download', 'withholding-slip', 'allowed', null],
      ]),
    );
    // The console asked first: it never sent a read without a purpose.
    expect(lines.filter(([, purpose]) => purpose === null)).toEqual([]);
  });

  it('never shows a `specific` document to anyone but its handlers, anywhere in the console', async () => {
    const mine = await open();
    await signIn(mine, baseUrl, handler.username, handler.password);
    await visit(mine, `/documents?q=${encodeURIComponent(specificTitle)}`, 'Documents');
    await mine.getByRole('link', { name: specificTitle }).waitFor();

    const pages: Array<[TestUser, string[]]> = [
      [clerk, ['/documents', `/documents?q=${encodeURIComponent(specificTitle)}`, `/documents/${specificId}`]],
      [officerA, ['/documents', '/holds', '/disposition', `/documents/${specificId}`]],
      [auditor, ['/documents', `/documents/${specificId}`]],
    ];
    for (const [user, paths] of pages) {
      const page = await session(user);
      for (const p of paths) {
        await page.goto(`${baseUrl}${p}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        await page.waitForLoadState('networkidle');
        // What the page shows (the search box may hold the words typed into it).
        expect(await page.locator('body').innerText()).not.toContain(specificTitle);
        if (p === `/documents/${specificId}`) await page.getByRole('alert').waitFor();
        // Not even asked for a purpose: for them the document does not exist.
        expect(await page.getByTestId('purpose-dialog').count()).toBe(0);
      }
    }
  });

  it('refuses a forged cross-site POST made from another site with the victim logged in', async () => {
    const victim = await session(ADMIN);
    await victim.goto(`${baseUrl}/users`);
    await victim.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    const target = `${baseUrl}/api/v1/users`;
    const payload = JSON.stringify({ username: `forged-${run}`, password: 'Forged-Password-123', displayName: 'x', roles: ['admin'], clearance: 'SECRET', departments: ['x'], designations: [] });
    // A different site (localhost vs 127.0.0.1): a form post and a no-cors fetch, both with the victim's cookies if the browser would send them.
    const evil: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!doctype html><body>
        <form id="f" method="POST" action="${target}" enctype="text/plain"><input name='${payload.slice(0, -1)},"x":"' value='"}'></form>
        <script>fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: ${JSON.stringify(payload)} })
          .finally(() => document.getElementById('f').submit());</script></body>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;
      const [response] = await Promise.all([victim.waitForResponse((r) => r.url() === target && r.request().method() === 'POST' && r.request().resourceType() === 'document'), victim.goto(evilUrl)]);
      expect([401, 403]).toContain(response.status());
    } finally {
      evil.close();
    }
    expect(await sql(t.databaseUrl, `SELECT id FROM users WHERE username = $1`, [`forged-${run}`])).toEqual([]);
    // Both attempts reached the server and were refused there. SameSite=Strict kept the cookie
    // back, so they came without a session: counted into the periodic rejection summary.
    await t.app.get(AuthRejectionTally).flush();
    const summaries = await sql<{ details: { groups: Array<{ route?: string; count: number }> } }>(t.databaseUrl, `SELECT details FROM audit_events WHERE action = 'auth.rejected'`);
    const refused = summaries.flatMap((e) => e.details.groups).filter((g) => g.route === 'POST /api/v1/users');
    expect(refused.reduce((n, g) => n + g.count, 0)).toBeGreaterThanOrEqual(2);
  });

  it('works by keyboard, and has no serious or critical accessibility violation, CSP violation or script error on any page visited', async () => {
    const page = await open('ja');
    await page.goto(`${baseUrl}/login`);
    await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
    await axe(page, 'login');

    // By keyboard alone: sign in, skip link first, then the navigation.
    const keys = await open();
    await keys.goto(`${baseUrl}/login`);
    await keys.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    const focused = () => keys.evaluate('document.activeElement?.getAttribute("name") || document.activeElement?.textContent') as Promise<string>;
    await keys.keyboard.press('Tab'); // language
    await keys.keyboard.press('Tab');
    expect(await focused()).toBe('username');
    await keys.keyboard.type(clerk.username);
    await keys.keyboard.press('Tab');
    await keys.keyboard.type(clerk.password);
    await keys.keyboard.press('Enter');
    await keys.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
    await keys.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    await keys.keyboard.press('Tab');
    expect(await focused()).toBe('Documents');
    await keys.keyboard.press('Tab');
    expect(await focused()).toBe('Upload');
    await keys.keyboard.press('Enter');
    await keys.getByRole('heading', { level: 1, name: 'Upload documents' }).waitFor();

    expect(findings).toEqual([]);
    expect(pageProblems).toEqual([]);
    expect(findings.length).toBe(0);
  });
});
