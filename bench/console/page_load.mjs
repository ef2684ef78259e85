// Console page-load benchmark: for each page, a fresh browser context (cold
// cache) opens the page in Debian's Chromium and waits until the page's own
// content is on screen; prints, from navigation start, the median time until the
// scripts ran (DOMContentLoaded) and until the data is shown, over RUNS runs.
//   SOUK_URL=http://127.0.0.1:8080 SOUK_KEY=sk_... node bench/console/page_load.mjs [RUNS]
// (run from the repository root; needs console/node_modules, i.e. a built console)
import { launch, openPage } from '../../console/e2e/helpers.mjs';

const runs = Number(process.argv[2] ?? 5);
// Route -> the element that shows the page has its data.
const pages = [
  ['/', '[data-testid="overview-stats"]'],
  ['/search?q=wireless%20headphones', '[data-testid="hit"]'],
  ['/shopper', '[data-testid="user-option"]'],
  ['/evaluation', '[data-testid="eval-report"]'],
  ['/quality', '[data-testid="quality-events"]'],
  ['/experiments', '[data-testid="exp-form"]'],
  ['/learn', '[data-testid="learn-tutorial-1"]'],
];

const browser = await launch();
const rows = [];
for (const [route, ready] of pages) {
  const times = [];
  const dcls = [];
  for (let i = 0; i < runs; ++i) {
    const { page, context } = await openPage(browser, route);
    await page.waitForSelector(ready, { timeout: 30000 });
    // Navigation start -> the page's data on screen, and -> scripts run (DOMContentLoaded).
    const [total, dcl] = await page.evaluate(() => [
      performance.now(),
      performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    ]);
    times.push(total);
    dcls.push(dcl);
    await context.close();
  }
  times.sort((a, b) => a - b);
  dcls.sort((a, b) => a - b);
  const mid = Math.floor(times.length / 2);
  rows.push({ route, dcl_ms: Math.round(dcls[mid]), median_ms: Math.round(times[mid]), max_ms: Math.round(times[times.length - 1]) });
  process.stderr.write(`${route}: median ${rows.at(-1).median_ms} ms\n`);
}
await browser.close();
console.log('| page | scripts ready (median ms) | data on screen (median ms) | max ms |\n|---|---|---|---|');
for (const r of rows) console.log(`| \`${r.route}\` | ${r.dcl_ms} | ${r.median_ms} | ${r.max_ms} |`);
