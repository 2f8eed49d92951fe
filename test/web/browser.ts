import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** The repository root, from test/web (jest) or dist/test/web (the compiled benchmark). */
function repositoryRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const ROOT = repositoryRoot();

/** Debian's chromium (Playwright's own browser download cannot run here); CHROMIUM_PATH overrides. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('No chromium found: apt-get install chromium (the CI script installs it), or set CHROMIUM_PATH.');
  return found;
}

/** Builds the console into a fresh folder, exactly as `npm run build:web` does. */
export async function buildConsole(): Promise<string> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'kura-web-build-'));
  await promisify(execFile)(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', path.join(ROOT, 'apps/web/vite.config.mts')], {
    cwd: ROOT,
    env: { ...process.env, KURA_WEB_OUT_DIR: out, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
  });
  return out;
}

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}

export function newContext(browser: Browser, language: 'en' | 'ja' = 'en'): Promise<BrowserContext> {
  return browser.newContext({ locale: language === 'ja' ? 'ja-JP' : 'en-GB', acceptDownloads: true, viewport: { width: 1280, height: 860 } });
}

/** Signs in through the login form, by keyboard like a person would. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.locator('input[name=password]').press('Enter');
  await page.getByTestId('whoami').waitFor();
}

export interface AxeFinding {
  page: string;
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/** Serious and critical accessibility violations on the current page (WCAG 2.x A/AA rules). */
export async function seriousViolations(page: Page, label: string): Promise<AxeFinding[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ page: label, id: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
}

/** Screenshots go to docs/console/ when UPDATE_SCREENSHOTS=1, else to a temporary folder. */
export async function screenshotDir(): Promise<string> {
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    const dir = path.join(ROOT, 'docs/console');
    await mkdir(dir, { recursive: true });
    return dir;
  }
  return mkdtemp(path.join(os.tmpdir(), 'kura-screens-'));
}

export async function switchLanguage(page: Page, language: 'en' | 'ja'): Promise<void> {
  await page.locator('#language-select').selectOption(language);
  await page.locator(`html[lang=${language}]`).waitFor({ state: 'attached' });
}
