// Shared helpers for the console's end-to-end tests (node:test + playwright-core
// driving Debian's Chromium). The server is started by the caller; these tests
// only read:
//   SOUK_URL        base URL of `souk serve` (or of a Vite server proxying /v1)
//   SOUK_KEY        an admin API key
//   SOUK_ARTIFACTS  folder for screenshots (default console/e2e/artifacts)
//   SOUK_CONSOLE_PATH  where the console lives under SOUK_URL (default /console/)
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const SOUK_URL = (process.env.SOUK_URL ?? 'http://127.0.0.1:8090').replace(/\/$/, '');
export const SOUK_KEY = process.env.SOUK_KEY ?? '';
export const ARTIFACTS = resolve(process.env.SOUK_ARTIFACTS ?? join(here, 'artifacts'));
export const CONSOLE_PATH = process.env.SOUK_CONSOLE_PATH ?? '/console/';
export const CHROMIUM = process.env.SOUK_CHROMIUM ?? '/usr/bin/chromium';

/** Launches headless Chromium (Debian's; never a downloaded browser). */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Opens `route` (e.g. '/search' or '#/search') in a fresh context with the API
 * key and language preset in localStorage. Returns {page, context, errors};
 * `errors` collects console errors, page errors and failed same-origin requests
 * (4xx/5xx, except those listed in opts.allowStatus) as they happen.
 * The key and language are set only when missing, so a reload keeps a switched language.
 * opts: {lang='en', width=1280, height, waitFor (selector), allowStatus=[] (e.g. [404])}
 */
export async function openPage(browser, route, opts = {}) {
  const lang = opts.lang ?? 'en';
  const width = opts.width ?? 1280;
  const height = opts.height ?? (width <= 480 ? 812 : 900);
  const context = await browser.newContext({
    viewport: { width, height },
    deviceScaleFactor: 1,
    isMobile: width <= 480,
    hasTouch: width <= 480,
    locale: lang === 'zh' ? 'zh-CN' : 'en-US',
  });
  await context.addInitScript(
    ([key, l, keep]) => {
      try {
        if (!keep || !localStorage.getItem('souk.key')) localStorage.setItem('souk.key', key);
        if (!keep || !localStorage.getItem('souk.lang')) localStorage.setItem('souk.lang', l);
      } catch {}
    },
    [SOUK_KEY, lang, true],
  );
  const page = await context.newPage();
  const errors = [];
  const allow = new Set(opts.allowStatus ?? []);
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const m = /status of (\d+)/.exec(msg.text());
    if (m && allow.has(Number(m[1]))) return;
    errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('response', (res) => {
    const s = res.status();
    if (s >= 400 && !allow.has(s) && res.url().startsWith(SOUK_URL)) errors.push(`http ${s}: ${res.url()}`);
  });
  const hash = route.startsWith('#') ? route : '#' + (route.startsWith('/') ? route : '/' + route);
  await page.goto(SOUK_URL + CONSOLE_PATH + hash, { waitUntil: 'load' });
  const name = routeName(hash);
  await page.waitForSelector(opts.waitFor ?? `[data-testid="page-${name}"]`, { timeout: 15000 });
  return { page, context, errors };
}

/** '#/search?x' -> 'search'; '#/' -> 'overview'. */
export function routeName(hash) {
  const p = hash.replace(/^#\/?/, '').split('?')[0];
  return p || 'overview';
}

/** Saves a full-page screenshot to ARTIFACTS/<name>-<width>.png and returns the path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  const file = join(ARTIFACTS, `${name}-${width}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

let axeCache = null;
function axeSource() {
  if (!axeCache) axeCache = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') + '\n;void 0;';
  return axeCache;
}

/**
 * Runs axe-core on the page; fails on violations of impact serious/critical.
 * opts.exclude: CSS selectors to leave out (e.g. chart canvases). Returns all violations.
 */
export async function checkA11y(page, opts = {}) {
  const has = await page.evaluate(() => typeof window.axe !== 'undefined');
  // The server's Content-Security-Policy (default-src 'self') blocks an injected
  // <script> tag (page.addScriptTag); evaluating the source through the DevTools
  // protocol is not subject to it, so the page keeps its real CSP under test.
  if (!has) await page.evaluate(axeSource());
  const violations = await page.evaluate(async (exclude) => {
    const ctx = exclude && exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
    const r = await window.axe.run(ctx, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + (n.failureSummary ?? '').split('\n').slice(0, 2).join(' ')),
    }));
  }, opts.exclude ?? []);
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], 'axe-core found serious/critical violations:\n' + JSON.stringify(bad, null, 2));
  return violations;
}

/** fetch() against SOUK_URL with the admin key; returns parsed JSON (text for non-JSON). Throws on !ok. */
export async function api(path, init = {}) {
  const headers = { Authorization: `Bearer ${SOUK_KEY}`, ...(init.headers ?? {}) };
  let body = init.body;
  if (body !== undefined && typeof body !== 'string') {
    body = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(SOUK_URL + path, { ...init, headers, body });
  const text = await res.text();
  if (!res.ok) {
    const err = new Error(`${init.method ?? 'GET'} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
    err.status = res.status;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** True if the route exists on the server (anything but a 404 "no route"). */
export async function hasRoute(path) {
  try {
    await api(path);
    return true;
  } catch (e) {
    return e.status !== 404;
  }
}

/** Fails if any console error, page error or failed request was collected. */
export function assertNoErrors(errors) {
  assert.deepEqual(errors, [], 'errors in the page:\n' + errors.join('\n'));
}

/** Screenshots a route at 1280 and 375 widths, running the axe check at both. */
export async function screenshotBoth(browser, route, name, opts = {}) {
  for (const width of [1280, 375]) {
    const { page, context, errors } = await openPage(browser, route, { ...opts, width });
    if (opts.ready) await opts.ready(page);
    await checkA11y(page, opts);
    await screenshot(page, name);
    assertNoErrors(errors);
    await context.close();
  }
}
