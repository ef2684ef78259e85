// End-to-end tests of the Evaluation, Data quality, Experiments and Learn
// pages against a running `souk serve` (SOUK_URL, SOUK_KEY). Each page must
// load without console errors at 1280 and 375 px, show real content that
// matches the API, pass axe-core (no serious/critical violations) and leave a
// screenshot in SOUK_ARTIFACTS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, assertNoErrors, checkA11y, hasRoute, launch, openPage, screenshot } from './helpers.mjs';

const kWidths = [1280, 375];
let browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Fails when the page is wider than the viewport (horizontal scrolling on a phone). */
async function assertNoOverflow(page) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client + 1, `page is ${scroll}px wide in a ${client}px viewport`);
}

/** Digits only: "148,738" -> "148738". */
const digits = (s) => String(s ?? '').replace(/\D/g, '');

describe('evaluation page', () => {
  test('lists the reports and draws charts', async () => {
    const available = await hasRoute('/v1/admin/reports');
    const reports = available ? (await api('/v1/admin/reports')).reports ?? [] : [];
    for (const width of kWidths) {
      const { page, context, errors } = await openPage(browser, '#/evaluation', { width, allowStatus: available ? [] : [404] });
      if (!available) {
        await page.waitForSelector('[data-testid="not-available"]');
      } else if (reports.length === 0) {
        await page.waitForSelector('text=/No reports yet/');
      } else {
        await page.waitForSelector('[data-testid="eval-report-item"]');
        assert.equal(await page.locator('[data-testid="eval-report-item"]').count(), reports.length);
        await page.waitForSelector('[data-testid="eval-report"]');
        await page.waitForSelector('[data-testid="eval-metrics"]');
        await page.waitForSelector('[data-testid="page-evaluation"] .chart canvas');
        // The newest report is selected first.
        assert.equal(await page.locator('[data-testid="eval-report-item"][aria-pressed="true"]').getAttribute('data-name'), reports[0].name);
        if (width === 1280) {
          // An intent report carries a reliability curve: the calibration chart shows.
          const intent = reports.find((r) => r.task === 'intent');
          if (intent) {
            await page.click(`[data-testid="eval-report-item"][data-name="${intent.name}"]`);
            const rep = await api(`/v1/admin/reports/${encodeURIComponent(intent.name)}`);
            if (Array.isArray(rep.extra?.reliability)) await page.waitForSelector('[data-testid="eval-reliability-chart"] canvas');
            // Compare with another report of the same protocol when there is one.
            const other = reports.find((r) => r.protocol === intent.protocol && r.name !== intent.name);
            if (other) {
              await page.selectOption('[data-testid="eval-compare-select"]', other.name);
              await page.waitForSelector('[data-testid="eval-compare"]');
            }
          }
          const search = reports.find((r) => r.task === 'search');
          if (search) {
            await page.click(`[data-testid="eval-report-item"][data-name="${search.name}"]`);
            await page.waitForSelector('[data-testid="eval-ablation-chart"] canvas');
          }
        }
      }
      await assertNoOverflow(page);
      await checkA11y(page);
      await screenshot(page, 'evaluation');
      assertNoErrors(errors);
      await context.close();
    }
  });
});

describe('data quality page', () => {
  test('shows the same event count as the API, charts and quarantine', async () => {
    const q = await api('/v1/admin/quality');
    const quarantine = await hasRoute('/v1/admin/quarantine?limit=1');
    for (const width of kWidths) {
      const { page, context, errors } = await openPage(browser, '#/quality', { width, allowStatus: quarantine ? [] : [404] });
      const events = page.locator('[data-testid="quality-events"]');
      await events.waitFor();
      assert.equal(digits(await events.textContent()), String(q.summary.events));
      await page.waitForSelector('[data-testid="quality-events-chart"] canvas');
      await page.waitForSelector('[data-testid="quality-completeness-chart"] canvas');
      await page.waitForSelector('[data-testid="quality-all-findings"] li');
      if (quarantine) {
        await page.waitForSelector('[data-testid="quality-quarantine-page"]');
        const first = await api('/v1/admin/quarantine?limit=20&offset=0');
        if (first.rows.length > 0) {
          await page.waitForSelector('[data-testid="quality-quarantine-table"] tbody tr');
          assert.equal(await page.locator('[data-testid="quality-quarantine-table"] tbody tr').count(), first.rows.length);
        }
      } else {
        await page.waitForSelector('[data-testid="quality-quarantine"] [data-testid="not-available"]');
      }
      await assertNoOverflow(page);
      await checkA11y(page);
      await screenshot(page, 'quality');
      assertNoErrors(errors);
      await context.close();
    }
  });
});

describe('experiments page', () => {
  test('creates an experiment through the form, lists it and shows its results', async () => {
    const name = `e2e-pages-${Date.now().toString(36)}`;
    const { page, context, errors } = await openPage(browser, '#/experiments', { width: 1280, allowStatus: [409] });
    try {
      await page.fill('[data-testid="exp-name"]', name);
      await page.fill('[data-testid="exp-variant-share-1"]', '0.6');
      await page.click('[data-testid="exp-submit"]');
      // Client-side validation: shares must sum to 1.
      await page.waitForSelector('[data-testid="exp-form-errors"]');
      await page.fill('[data-testid="exp-variant-share-1"]', '0.5');
      await page.selectOption('[data-testid="exp-variant-pipeline-1"]', 'bm25');
      await page.click('[data-testid="exp-submit"]');
      await page.waitForSelector('[data-testid="exp-created"]', { timeout: 15000 }).catch(async (e) => {
        throw new Error(`${e.message}\nform says: ${(await page.locator('[data-testid="exp-form"]').innerText()).slice(-400)}`);
      });
      await page.waitForSelector(`[data-testid="exp-row-${name}"]`);
      const results = page.locator('[data-testid="exp-results"]');
      await results.waitFor();
      await page.waitForSelector('[data-testid="exp-ci-chart"] canvas');
      await page.waitForSelector('[data-testid="exp-srm"]');
      const created = await api(`/v1/experiments/${name}`);
      assert.equal(created.status, 'running');
      assert.equal(created.variants[1].config.pipeline, 'bm25');
      // The API's own error shows when the name is taken.
      await page.click('[data-testid="exp-submit"]');
      await page.waitForSelector('[data-testid="exp-form-api-error"] [data-testid="error-box"]');
      await checkA11y(page);
      await screenshot(page, 'experiments');
      // Stop it from the results card.
      await page.click('[data-testid="exp-stop"]');
      await page.waitForFunction(
        () => document.querySelector('[data-testid="exp-status"]')?.textContent?.includes('stopped'),
        null,
        { timeout: 10000 },
      );
      assert.equal((await api(`/v1/experiments/${name}`)).status, 'stopped');
      assertNoErrors(errors);
    } finally {
      await api(`/v1/experiments/${name}/stop`, { method: 'POST', body: {} }).catch(() => {});
      await context.close();
    }
  });

  test('loads at phone width', async () => {
    const { page, context, errors } = await openPage(browser, '#/experiments', { width: 375 });
    await page.waitForSelector('[data-testid="exp-form"]');
    await assertNoOverflow(page);
    await checkA11y(page);
    await screenshot(page, 'experiments');
    assertNoErrors(errors);
    await context.close();
  });
});

describe('learn page', () => {
  test('tutorial 1 runs to the end and shows the API’s top hit', async () => {
    const expected = await api('/v1/search?q=running%20shoes&explain=true&limit=10');
    const { page, context, errors } = await openPage(browser, '#/learn', { width: 1280 });
    const result = page.locator('[data-testid="learn-step-result"]');
    const waitDone = async () => {
      await page.waitForSelector('[data-testid="learn-step-result"]:not([data-state="loading"])', { timeout: 20000 });
      assert.equal(await result.getAttribute('data-state'), 'done', await result.textContent());
    };
    await waitDone();
    assert.equal(await page.locator('[data-testid="learn-top-hit"]').getAttribute('data-id'), expected.hits[0].id);
    let steps = 1;
    while ((await page.locator('[data-testid="learn-next"]').count()) > 0) {
      await page.click('[data-testid="learn-next"]');
      steps++;
      await waitDone();
      if (steps === 2) {
        assert.equal(await page.locator('[data-testid="learn-explained-top"]').getAttribute('data-id'), expected.hits[0].id);
      }
      assert.ok(steps < 20, 'too many steps');
    }
    await page.waitForSelector('[data-testid="learn-finished"]');
    await page.waitForSelector('[data-testid="learn-ltr-chart"] canvas');
    assert.ok(steps >= 4, `tutorial 1 has ${steps} steps`);
    await checkA11y(page);
    await screenshot(page, 'learn');
    assertNoErrors(errors);
    await context.close();
  });

  test('loads at phone width', async () => {
    const { page, context, errors } = await openPage(browser, '#/learn', { width: 375 });
    await page.waitForSelector('[data-testid="learn-step-result"][data-state="done"]', { timeout: 20000 });
    await assertNoOverflow(page);
    await checkA11y(page);
    await screenshot(page, 'learn');
    assertNoErrors(errors);
    await context.close();
  });
});
