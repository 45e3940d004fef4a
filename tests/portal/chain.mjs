#!/usr/bin/env node
// The regulator's explorer across two hops (spec/portal.md `#/chain`), in Debian's Chromium driven
// by Playwright:
//
//   node tests/portal/chain.mjs <nodeUrl> <screenshotDir>
//
// Environment (tests/integration/portal.rs sets them):
//   PORTAL_REGULATOR_KEY    the regulator's key file: it signs in with it
//   PORTAL_PLATFORM_USCC    the platform (admitted with its real URL as endpoint) whose log is read
//   PORTAL_ENTERPRISE_USCC  the enterprise whose data the bank received through the platform
//   PORTAL_ONWARD           the platform log's onward-release indices, comma-separated
//   PORTAL_UPSTREAM         the node log's release indices they cite, in the same order
//   PORTAL_EXPECT           `verified` (default), or `tampered:<platform index>`: that platform entry's
//                           record was changed in the platform's database, so that chain must fail
//                           (its platform hop, naming the commitment) while the others still verify
//
// The story: the regulator signs in, opens 跨平台访问链, picks the platform, gives the enterprise,
// follows: the page reads the platform's log across origins (CORS) with an assertion signed in the
// browser, checks the platform's key against the node's registry, verifies each platform entry
// against the platform's checkpoint and the node entry it cites against the node's, and that they
// agree. Then from a chain to the node's entry (verified there too) and back to the platform's
// onward releases under that grant. Screenshots go to <screenshotDir>, numbered in order.
//
// Prints one JSON object per line on stdout ({"event": …}); the last one is {"event":"done","ok":true}.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, shotDir] = process.argv.slice(2);
if (!base || !shotDir) {
  console.error('usage: node tests/portal/chain.mjs <nodeUrl> <screenshotDir>');
  process.exit(2);
}
const env = (k) => {
  const v = process.env[k];
  if (!v) {
    console.error(`${k} must be set`);
    process.exit(2);
  }
  return v;
};
const REG_KEY = env('PORTAL_REGULATOR_KEY');
const PLATFORM = env('PORTAL_PLATFORM_USCC');
const USCC = env('PORTAL_ENTERPRISE_USCC');
const ONWARD = env('PORTAL_ONWARD').split(',').map(Number);
const UPSTREAM = env('PORTAL_UPSTREAM').split(',').map(Number);
const EXPECT = process.env.PORTAL_EXPECT || 'verified';
const TAMPERED = EXPECT.startsWith('tampered:') ? Number(EXPECT.slice('tampered:'.length)) : null;
fs.mkdirSync(shotDir, { recursive: true });
for (const f of fs.readdirSync(shotDir)) if (f.endsWith('.png')) fs.rmSync(path.join(shotDir, f));

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const log = (...a) => console.error('[chain]', ...a);
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

let shotNo = 0;
const problems = { pageErrors: [], csp: [], origins: new Set() };
let page = null;

async function shot(name) {
  shotNo += 1;
  const file = path.join(shotDir, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  emit({ event: 'screenshot', file });
}

async function step(name, fn) {
  log(name);
  try {
    await fn();
  } catch (e) {
    if (page) {
      await shot(`${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}-FAILED`).catch(() => {});
      log('page errors:', JSON.stringify(problems.pageErrors), 'csp:', JSON.stringify(problems.csp));
    }
    throw new Error(`${name}: ${e.stack || e.message}`);
  }
}

async function waitRoute(hash) {
  await page.waitForFunction((h) => location.hash.startsWith(h), hash);
  const name = hash.replace(/^#\/?/, '').split('/')[0];
  await page.waitForSelector(`.page[data-page="${name}"][data-ready] h1`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consentry-chain-'));
const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
try {
  page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(30000);
  page.on('request', (r) => problems.origins.add(new URL(r.url()).origin));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to|CORS/i.test(m.text())) problems.csp.push(m.text());
  });
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));

  await step('the regulator signs in with its key file', async () => {
    await page.goto(`${base}/portal/#/signin`);
    await page.waitForSelector('body[data-ready="1"]');
    await page.setInputFiles('#import-key input[type="file"]', REG_KEY);
    await page.click('#import-key-btn');
    await page.waitForSelector('#import-key .status.ok');
    await page.click('#signin-btn');
    await waitRoute('#/explorer');
  });

  const chainAt = (i) => page.locator(`li.chain[data-platform-index="${i}"]`);
  await step('it follows the enterprise\'s releases from the platform\'s log to the node\'s', async () => {
    await page.click('nav a[href="#/chain"]');
    await waitRoute('#/chain');
    await page.selectOption('#chain-form [data-field="platform"] select', PLATFORM);
    await page.fill('#chain-form [data-field="enterprise"] input', USCC);
    await page.click('#chain-go');
    await waitRoute('#/chain');
    await page.waitForSelector('#platform-key[data-ok="true"]');
    for (const [k, i] of ONWARD.entries()) {
      const c = chainAt(i);
      await c.waitFor();
      assert((await c.getAttribute('data-node-index')) === String(UPSTREAM[k]), `chain ${i} cites node entry ${UPSTREAM[k]}`);
      await page.waitForSelector(`li.chain[data-platform-index="${i}"][data-verified]`, { timeout: 60000 });
      const verified = await c.getAttribute('data-verified');
      if (i === TAMPERED) {
        assert(verified === 'false', `the tampered chain ${i} fails`);
        assert((await c.locator('[data-hop="platform"] [data-verified="false"]').count()) === 1, 'its platform hop fails');
        assert((await c.locator('[data-hop="node"] [data-verified="true"]').count()) === 1, 'its node hop still verifies');
        await c.locator('details').first().locator('summary').click();
        const bad = await c.locator('.steps-result li.bad').allTextContents();
        assert(bad.some((t) => t.includes('记录承诺')), `the failing step is the commitment: ${bad}`);
      } else {
        assert(verified === 'true', `chain ${i} verifies`);
        for (const hop of ['platform', 'node', 'chain']) assert((await c.locator(`[data-hop="${hop}"] [data-verified="true"]`).count()) === 1, `chain ${i}: the ${hop} mark`);
        assert((await c.locator('ul.agreement li.bad').count()) === 0, `chain ${i}: every agreement check holds`);
      }
    }
    assert((await page.locator('li.chain').count()) === ONWARD.length, 'one chain per onward release');
    await shot(TAMPERED === null ? 'chains-verified' : 'chain-tampered');
  });

  if (TAMPERED === null) {
    await step('the details of one chain: both hops\' steps and the agreement', async () => {
      const c = chainAt(ONWARD[0]);
      for (const d of await c.locator('details').all()) await d.locator('summary').click();
      const steps = await c.locator('.steps-result li').allTextContents();
      assert(steps.filter((s) => s.includes('包含证明')).length === 2, `an inclusion proof per hop: ${steps}`);
      assert(steps.every((s) => s.startsWith('✓')), `every step holds: ${steps}`);
      await shot('chain-details');
    });

    let grantUrl;
    await step('to the node\'s entry, verified there too, and back to the platform\'s onward releases', async () => {
      await chainAt(ONWARD[0]).locator(`a[data-node-entry="${UPSTREAM[0]}"]`).click();
      await waitRoute(`#/entry/${UPSTREAM[0]}`);
      await page.waitForSelector('#entry-mark [data-verified="true"]', { timeout: 60000 });
      await shot('node-entry');
      grantUrl = await page.getAttribute('#follow-onward', 'href');
      await page.click('#follow-onward');
      await waitRoute('#/chain');
      for (const i of ONWARD) await page.waitForSelector(`li.chain[data-platform-index="${i}"][data-verified="true"]`, { timeout: 60000 });
      await shot('back-to-the-platform');
    });
    emit({ event: 'grant-url', href: grantUrl });
  }

  await step('no script error, no policy violation; the page read the node and the platform only', async () => {
    assert(problems.pageErrors.length === 0, `script errors: ${problems.pageErrors}`);
    assert(problems.csp.length === 0, `policy: ${problems.csp}`);
    emit({ event: 'origins', origins: [...problems.origins] });
  });
  emit({ event: 'done', ok: true, screenshots: shotNo });
} catch (e) {
  console.error(e.message);
  emit({ event: 'done', ok: false, error: e.message });
  process.exitCode = 1;
} finally {
  await ctx.close().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
}
