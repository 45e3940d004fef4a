#!/usr/bin/env node
// The pages of a platform's operator and of a bank, in Debian's Chromium driven by Playwright:
//
//   node tests/portal/parties.mjs <nodeUrl> <screenshotDir>
//
// Environment (tests/integration/portal.rs sets them):
//   PORTAL_ENTERPRISE_KEY, PORTAL_BANK_KEY, PORTAL_PLATFORM_KEY   key files: each signs in with its own
//   PORTAL_ENTERPRISE_USCC, PORTAL_BANK_USCC, PORTAL_PLATFORM_USCC
//
// The story: the bank signs in and creates two consent requests in its page (a bad code refused next
// to the field first); the enterprise signs one in the browser (the wizard pre-filled from the
// request) and declines the other with a reason; the bank's page shows one signed with the grant,
// the other declined with the reason; the platform releases for the bank (over the API,
// as the platform process does); the bank's receipts page shows the release with its inclusion proof
// verified in the browser. The platform's operator signs in: its banks (suspend, then resume), a
// request of its own created and withdrawn, the grant naming it, its release verified, its
// statistics. Screenshots of each step go to <screenshotDir>, numbered in order.
//
// Prints one JSON object per line on stdout ({"event": …}); the last one is {"event":"done","ok":true}.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const pc = await import(path.join(root, 'src/portal/static/crypto.js'));

const [base, shotDir] = process.argv.slice(2);
if (!base || !shotDir) {
  console.error('usage: node tests/portal/parties.mjs <nodeUrl> <screenshotDir>');
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
const ENT_KEY = env('PORTAL_ENTERPRISE_KEY');
const BANK_KEY = env('PORTAL_BANK_KEY');
const PLATFORM_KEY = env('PORTAL_PLATFORM_KEY');
const USCC = env('PORTAL_ENTERPRISE_USCC');
const BANK = env('PORTAL_BANK_USCC');
const PLATFORM = env('PORTAL_PLATFORM_USCC');
fs.mkdirSync(shotDir, { recursive: true });
for (const f of fs.readdirSync(shotDir)) if (f.endsWith('.png')) fs.rmSync(path.join(shotDir, f));

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const log = (...a) => console.error('[parties]', ...a);
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

let shotNo = 0;
const problems = { external: [], pageErrors: [] };
const contexts = [];
let current = null;

async function openBrowser(label) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `consentry-parties-${label}-`));
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  contexts.push({ ctx, dir });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(30000);
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:') && !u.startsWith('about:')) problems.external.push(u);
  });
  page.on('pageerror', (e) => problems.pageErrors.push(`${label}: ${e.message}`));
  return page;
}

async function shot(page, name) {
  shotNo += 1;
  const file = path.join(shotDir, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  emit({ event: 'screenshot', file });
}

async function step(name, page, fn) {
  log(name);
  current = page;
  try {
    await fn();
  } catch (e) {
    if (current) {
      await shot(current, `${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}-FAILED`).catch(() => {});
      const shown = await current.$$eval('.error, .alert', (els) => els.map((e) => `${e.closest('[data-field]')?.dataset.field || ''}: ${e.textContent}`).filter((t) => !/: $/.test(t))).catch(() => []);
      log('errors shown:', JSON.stringify(shown), 'page errors:', JSON.stringify(problems.pageErrors));
    }
    throw new Error(`${name}: ${e.stack || e.message}`);
  }
}

async function waitRoute(page, hash) {
  await page.waitForFunction((h) => location.hash.startsWith(h), hash);
  const name = hash.replace(/^#\/?/, '').split('/')[0];
  await page.waitForSelector(`.page[data-page="${name}"][data-ready] h1`);
}

async function go(page, hash) {
  await page.click(`nav a[href="${hash}"]`);
  await waitRoute(page, hash);
}

async function confirmWith(page, trigger) {
  await trigger();
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor();
  await dlg.locator('button[data-confirm]').click();
  await dlg.waitFor({ state: 'detached' });
}

async function signIn(page, keyFile, landing) {
  await page.goto(`${base}/portal/#/signin`);
  await page.waitForSelector('body[data-ready="1"]');
  await page.setInputFiles('#import-key input[type="file"]', keyFile);
  await page.click('#import-key-btn');
  await page.waitForSelector('#import-key .status.ok');
  await page.click('#signin-btn');
  await waitRoute(page, landing);
}

/** Fills the consent request form of the current page. */
async function fillRequest(page, { enterprise, bank }) {
  const f = page.locator('#request-form');
  await f.locator('[data-field="enterprise"] input').fill(enterprise);
  await f.locator('[data-field="enterpriseName"] input').fill('杭州示例科技有限公司');
  if (bank) await f.locator('[data-field="bank"] select').selectOption(bank);
  await f.locator('input[data-cat="TAX-03"]').check();
  await f.locator('input[data-cat="SOC-01"]').check();
  await f.locator('input[data-purpose="credit-approval"]').check();
  await f.locator('[data-field="dataFrom"] input').fill('2024-01-01');
  await f.locator('[data-field="dataUntil"] input').fill('2026-10-31');
  await f.locator('[data-field="maxReleases"] input').fill('4');
  await f.locator('[data-field="message"] textarea').fill('贷前调查:请授权本行经平台获取贵司纳税与社保的加工结果。');
}

// ------------------------------------------------------------------ the node's API, as the platform

const nodeInfo = await (await fetch(`${base}/v1/node`)).json();
const platformKey = await pc.importKeyFile(JSON.parse(fs.readFileSync(PLATFORM_KEY, 'utf8')));
const bankKey = await pc.importKeyFile(JSON.parse(fs.readFileSync(BANK_KEY, 'utf8')));
// Today in China Standard Time, as loan events are dated.
const todayCst = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);

async function api(key, method, p, body) {
  const token = await pc.clientAssertion(key, nodeInfo.did, method, p);
  const r = await fetch(`${base}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

// ------------------------------------------------------------------ the story

try {
  const bank = await openBrowser('bank');
  let request;
  let declined;
  let grant;
  let release;
  await step('the bank signs in and lands on its consent requests', bank, async () => {
    await signIn(bank, BANK_KEY, '#/requests');
    const nav = await bank.$$eval('nav a', (as) => as.map((a) => a.getAttribute('href')));
    for (const r of ['#/requests', '#/named-grants', '#/releases', '#/loans', '#/summary']) assert(nav.includes(r), `the bank's menu has ${r}: ${nav}`);
    assert(!nav.includes('#/explorer') && !nav.includes('#/banks'), `no regulator or platform page in the bank's menu: ${nav}`);
    await shot(bank, 'bank-requests-empty');
  });

  await step('the bank creates a consent request in its page (a bad code is refused next to the field)', bank, async () => {
    await fillRequest(bank, { enterprise: `${USCC.slice(0, 17)}0` === USCC ? `${USCC.slice(0, 17)}1` : `${USCC.slice(0, 17)}0` });
    await bank.click('#request-send');
    assert((await bank.textContent('[data-field="enterprise"] .error')).length > 0, 'a bad code is refused next to the field');
    await shot(bank, 'bank-request-bad-code');
    await bank.fill('#request-form [data-field="enterprise"] input', USCC);
    await bank.click('#request-send');
    const card = bank.locator('li.request[data-state="pending"]');
    await card.first().waitFor();
    request = await card.first().getAttribute('data-request');
    const text = await card.first().textContent();
    assert(text.includes(USCC) && text.includes('TAX-03') && text.includes('贷前调查'), `the card: ${text}`);
    emit({ event: 'request', id: request });
    // A second request, which the enterprise will decline.
    await fillRequest(bank, { enterprise: USCC });
    await bank.fill('#request-form [data-field="message"] textarea', '第二份请求 A second request');
    await bank.click('#request-send');
    await bank.waitForFunction(() => document.querySelectorAll('li.request[data-state="pending"]').length === 2);
    const ids = await bank.$$eval('li.request[data-state="pending"]', (els) => els.map((e) => e.dataset.request));
    declined = ids.find((x) => x !== request);
    await shot(bank, 'bank-request-pending');
  });

  const ent = await openBrowser('enterprise');
  await step('the enterprise sees the bank\'s request and signs it in the browser', ent, async () => {
    await signIn(ent, ENT_KEY, '#/grants');
    const card = ent.locator(`li.request[data-request="${request}"]`);
    await card.waitFor();
    await shot(ent, 'enterprise-sees-request');
    await ent.click(`a[data-review="${request}"]`);
    await ent.waitForSelector(`#request-banner[data-request="${request}"]`);
    assert(await ent.isChecked(`input[data-bank="${BANK}"]`), 'the bank is chosen');
    await ent.click('#wizard-next');
    await ent.waitForSelector('form.wizard[data-step="1"]');
    await ent.click('#wizard-next');
    await ent.waitForSelector('form.wizard[data-step="2"]');
    await ent.click('#wizard-next');
    await ent.waitForSelector('form.wizard[data-step="3"][data-letters-loaded]');
    await ent.check('input[data-accept="STA/1"]');
    await ent.check('input[data-accept="MOHRSS/1"]');
    await ent.click('#wizard-next');
    await ent.waitForSelector('#canonical-doc');
    await shot(ent, 'enterprise-preview');
    await confirmWith(ent, () => ent.click('#sign-btn'));
    await ent.waitForSelector('#grant-done', { timeout: 30000 });
    await ent.waitForSelector(`#request-signed[data-request="${request}"]`);
    grant = (await ent.textContent('#grant-id')).trim();
    emit({ event: 'grant', id: grant });
    await shot(ent, 'enterprise-signed');
  });

  await step('the enterprise declines the other request with a reason', ent, async () => {
    await ent.goto(`${base}/portal/#/grants`);
    await ent.reload();
    await waitRoute(ent, '#/grants');
    const card = ent.locator(`li.request[data-request="${declined}"]`);
    await card.waitFor();
    await card.locator(`button[data-decline="${declined}"]`).click();
    const dlg = ent.locator('dialog[open]');
    await dlg.waitFor();
    await dlg.locator('#decline-reason').fill('暂无融资需求');
    await dlg.locator('button[data-confirm]').click();
    await dlg.waitFor({ state: 'detached' });
    await ent.waitForFunction((id) => !document.querySelector(`li.request[data-request="${id}"]`), declined);
  });

  await step('the bank\'s page shows one request signed with the grant, the other declined with the reason', bank, async () => {
    await bank.reload();
    await waitRoute(bank, '#/requests');
    const card = bank.locator(`li.request[data-request="${request}"][data-state="signed"]`);
    await card.waitFor();
    assert((await card.locator(`a[data-grant="${grant}"]`).count()) === 1, 'the card links the grant');
    const no = bank.locator(`li.request[data-request="${declined}"][data-state="declined"]`);
    await no.waitFor();
    assert((await no.locator('.decline-reason').textContent()).includes('暂无融资需求'), 'the reason is shown');
    assert((await bank.locator('button[data-withdraw]').count()) === 0, 'no answered request can be withdrawn');
    await shot(bank, 'bank-request-signed');
    await go(bank, '#/named-grants');
    await bank.waitForSelector(`table.named-grants a[data-grant="${grant}"]`);
    await shot(bank, 'bank-grants');
  });

  await step('the platform releases for the bank under the grant', null, async () => {
    const r = await api(platformKey, 'POST', '/v1/releases', { enterprise: USCC, grant, categories: ['TAX-03'], granularity: 'derived', purpose: 'credit-approval', onBehalfOf: BANK });
    assert(r.status === 200 && r.body.data['TAX-03'].granularity === 'derived', `release: ${r.status} ${JSON.stringify(r.body)}`);
    release = r.body.logIndex;
    emit({ event: 'release', logIndex: release });
  });

  await step('the bank\'s receipts page shows the release with its inclusion proof verified in the browser', bank, async () => {
    await go(bank, '#/releases');
    const item = bank.locator(`li.entry[data-index="${release}"]`);
    await item.waitFor();
    await item.locator('[data-verified="true"]').waitFor({ timeout: 60000 });
    assert((await bank.locator('[data-verified="false"]').count()) === 0, 'no entry fails verification');
    await item.locator('details summary').click();
    const steps = await item.locator('.steps-result li').allTextContents();
    assert(steps.some((s) => s.includes('包含证明')) && steps.every((s) => s.startsWith('✓')), `the steps: ${steps}`);
    await item.locator(`button[data-receipt="${release}"]`).waitFor();
    await shot(bank, 'bank-receipt-verified');
  });

  await step('the bank reports its loan decision (signed by the bank, relayed by its platform)', null, async () => {
    const report = { reportId: 'r-parties-1', loan: 'L-PARTIES-1', enterprise: USCC, grant, releases: [release], event: { type: 'decision', decision: 'approved', amount: 500000, termMonths: 12, rateBand: '3-4', security: 'credit', firstLoan: true, on: todayCst } };
    const token = await pc.signedRequest(bankKey, nodeInfo.did, 'loan-report', { report });
    const r = await api(platformKey, 'POST', '/v1/loan-reports', { request: token });
    assert(r.status === 201 && r.body.state === 'approved', `loan report: ${r.status} ${JSON.stringify(r.body)}`);
  });

  await step('the bank\'s loans and statistics render', bank, async () => {
    await go(bank, '#/loans');
    const row = await bank.locator('table.loans tbody tr').first().textContent();
    assert(row.includes('L-PARTIES-1') && row.includes('500000') && row.includes(USCC), `the loan: ${row}`);
    await shot(bank, 'bank-loans');
    await go(bank, '#/summary');
    const releases = Number(await bank.textContent('#summary-totals [data-figure="releases"]'));
    assert(releases >= 1, `the bank's releases: ${releases}`);
    await shot(bank, 'bank-statistics');
  });

  const pf = await openBrowser('platform');
  await step('the platform\'s operator signs in and sees its banks', pf, async () => {
    await signIn(pf, PLATFORM_KEY, '#/banks');
    const card = pf.locator(`li.bank[data-uscc="${BANK}"][data-state="active"]`);
    await card.waitFor();
    await shot(pf, 'platform-banks');
  });

  await step('the platform creates a request naming its bank, then withdraws it', pf, async () => {
    await go(pf, '#/requests');
    const before = await pf.locator('li.request').count();
    assert((await pf.locator(`li.request[data-request="${request}"]`).count()) === 0, 'the bank\'s own request is not the platform\'s');
    await fillRequest(pf, { enterprise: USCC, bank: BANK });
    await pf.click('#request-send');
    await pf.waitForFunction((n) => document.querySelectorAll('li.request').length === n + 1, before);
    const mine = pf.locator('li.request[data-state="pending"]').first();
    const id = await mine.getAttribute('data-request');
    await shot(pf, 'platform-request-pending');
    await confirmWith(pf, () => mine.locator(`button[data-withdraw="${id}"]`).click());
    await pf.locator(`li.request[data-request="${id}"][data-state="withdrawn"]`).waitFor();
    await shot(pf, 'platform-request-withdrawn');
    emit({ event: 'withdrawn', id });
  });

  await step('the platform sees the grant naming it, its release verified, its statistics', pf, async () => {
    await go(pf, '#/named-grants');
    await pf.waitForSelector(`table.named-grants a[data-grant="${grant}"]`);
    await go(pf, '#/releases');
    const item = pf.locator(`li.entry[data-index="${release}"]`);
    await item.waitFor();
    await item.locator('[data-verified="true"]').waitFor({ timeout: 60000 });
    await shot(pf, 'platform-releases');
    await go(pf, '#/loans');
    assert((await pf.locator('table.loans tbody tr').first().textContent()).includes('L-PARTIES-1'), 'the loan reported through the platform');
    await go(pf, '#/summary');
    assert(Number(await pf.textContent('#summary-totals [data-figure="releases"]')) >= 1, 'the platform\'s releases');
    await shot(pf, 'platform-statistics');
  });

  await step('the platform suspends its bank, then resumes it', pf, async () => {
    await go(pf, '#/banks');
    await confirmWith(pf, () => pf.click(`li.bank[data-uscc="${BANK}"] button[data-set-state="suspended"]`));
    await pf.locator(`li.bank[data-uscc="${BANK}"][data-state="suspended"]`).waitFor();
    await shot(pf, 'platform-bank-suspended');
    await confirmWith(pf, () => pf.click(`li.bank[data-uscc="${BANK}"] button[data-set-state="active"]`));
    await pf.locator(`li.bank[data-uscc="${BANK}"][data-state="active"]`).waitFor();
    await shot(pf, 'platform-bank-resumed');
  });

  await step('nothing left this origin, no script error', null, async () => {
    assert(problems.external.length === 0, `external requests: ${problems.external}`);
    assert(problems.pageErrors.length === 0, `script errors: ${problems.pageErrors}`);
  });
  emit({ event: 'done', ok: true, request, declined, grant, release, screenshots: shotNo });
} catch (e) {
  console.error(e.message);
  emit({ event: 'done', ok: false, error: e.message });
  process.exitCode = 1;
} finally {
  for (const { ctx, dir } of contexts) {
    await ctx.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
