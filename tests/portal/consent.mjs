#!/usr/bin/env node
// A consent request answered in the browser (spec/consent-requests.md), in Debian's Chromium driven
// by Playwright:
//
//   node tests/portal/consent.mjs <nodeUrl> <screenshotDir>
//
// Environment (tests/integration/portal.rs sets them):
//   PORTAL_ENTERPRISE_KEY   the approved enterprise's key file: it signs in with it
//   PORTAL_BANK_KEY         the bank's key file: this script asks for the grant as the bank
//   PORTAL_PLATFORM_KEY     the bank's platform's key file: the release goes through it
//   PORTAL_ENTERPRISE_USCC, PORTAL_BANK_USCC, PORTAL_PLATFORM_USCC
//
// The story: a bank creates a consent request over the API; the enterprise signs in, sees it on its
// grants page (who asks, what, why), opens "review and sign", finds the wizard pre-filled, tries to
// widen a term (refused next to the field), narrows one (2 releases a month instead of 4), accepts
// the letters, signs in the browser; the request is signed with the new grant, the bank sees it, and
// a release to the bank through its platform succeeds under that grant. A second request is declined
// with a reason. Screenshots of each step go to <screenshotDir>, numbered in order.
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
  console.error('usage: node tests/portal/consent.mjs <nodeUrl> <screenshotDir>');
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
const log = (...a) => console.error('[consent]', ...a);
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

let shotNo = 0;
const problems = { external: [], pageErrors: [] };
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
      await shot(`${name.replace(/[^a-z0-9]+/gi, '-')}-FAILED`).catch(() => {});
      const shown = await page.$$eval('.error, .alert', (els) => els.map((e) => `${e.closest('[data-field]')?.dataset.field || ''}: ${e.textContent}`).filter((t) => !/: $/.test(t))).catch(() => []);
      log('errors shown:', JSON.stringify(shown), 'page errors:', JSON.stringify(problems.pageErrors), 'wizard:', await page.evaluate(() => sessionStorage.getItem('consentry.wizard.v1')).catch(() => ''));
    }
    throw new Error(`${name}: ${e.stack || e.message}`);
  }
}

async function waitRoute(hash) {
  await page.waitForFunction((h) => location.hash.startsWith(h), hash);
  const name = hash.replace(/^#\/?/, '').split('/')[0];
  await page.waitForSelector(`.page[data-page="${name}"][data-ready] h1`);
}

async function confirmWith(trigger, fill) {
  await trigger();
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor();
  if (fill) await fill(dlg);
  await dlg.locator('button[data-confirm]').click();
  await dlg.waitFor({ state: 'detached' });
}

// ------------------------------------------------------------------ the node's API, as the bank and its platform

const nodeInfo = await (await fetch(`${base}/v1/node`)).json();
const bankKey = await pc.importKeyFile(JSON.parse(fs.readFileSync(BANK_KEY, 'utf8')));
const platformKey = await pc.importKeyFile(JSON.parse(fs.readFileSync(PLATFORM_KEY, 'utf8')));

async function api(key, method, p, body) {
  const token = await pc.clientAssertion(key, nodeInfo.did, method, p);
  const r = await fetch(`${base}${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

const catalog = await (await fetch(`${base}/v1/catalog`)).json();
const iso = (d) => `${d.toISOString().slice(0, 19)}Z`;
function requestBody(message) {
  const now = Date.now();
  return {
    terms: {
      enterprise: { uscc: USCC, name: '杭州示例科技有限公司' },
      grantee: { uscc: PLATFORM, name: '示例融资信用服务平台', role: 'platform' },
      onwardRecipients: [{ uscc: BANK, name: '示例银行', role: 'bank', categories: [{ code: 'TAX-03', granularity: 'derived' }, { code: 'SOC-01', granularity: 'derived' }] }],
      categories: [{ code: 'TAX-03', granularity: 'derived' }, { code: 'SOC-01', granularity: 'derived' }],
      purposes: ['pre-loan-due-diligence', 'credit-approval'],
      dataPeriod: { from: '2024-01-01', until: '2026-10-31' },
      usage: { mode: 'periodic', maxReleases: 4, per: 'month' },
      catalogVersion: catalog.catalogVersion,
    },
    // Whole minutes, as the wizard's fields show them.
    validFrom: iso(new Date(Math.floor((now - 3600000) / 60000) * 60000)),
    validUntil: iso(new Date(Math.floor((now + 180 * 86400000) / 60000) * 60000)),
    message,
  };
}

// ------------------------------------------------------------------ the story

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consentry-consent-'));
const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
try {
  page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(20000);
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:') && !u.startsWith('about:')) problems.external.push(u);
  });
  page.on('pageerror', (e) => problems.pageErrors.push(e.message));

  let request;
  let declined;
  let grant;
  await step('the bank asks the enterprise for a grant over the API', async () => {
    const r = await api(bankKey, 'POST', '/v1/consent-requests', requestBody('贷前调查:请授权本行经平台获取贵司纳税与社保的加工结果。'));
    assert(r.status === 201 && r.body.state === 'pending' && r.body.requester.uscc === BANK, `create: ${r.status} ${JSON.stringify(r.body)}`);
    request = r.body.id;
    const d = await api(bankKey, 'POST', '/v1/consent-requests', requestBody('另一份请求 A second request'));
    assert(d.status === 201, `second: ${d.status}`);
    declined = d.body.id;
    emit({ event: 'request', id: request });
  });

  await step('the enterprise signs in with its key file and sees the request: who asks, what, why', async () => {
    await page.goto(`${base}/portal/#/signin`);
    await page.waitForSelector('body[data-ready="1"]');
    await page.setInputFiles('#import-key input[type="file"]', ENT_KEY);
    await page.click('#import-key-btn');
    await page.waitForSelector('#import-key .status.ok');
    await page.click('#signin-btn');
    await waitRoute('#/grants');
    const card = page.locator(`li.request[data-request="${request}"]`);
    await card.waitFor();
    const text = await card.textContent();
    assert(text.includes('示例银行') && text.includes(BANK) && text.includes('贷前调查') && text.includes('TAX-03') && text.includes('每月最多 4 次'), `the card: ${text}`);
    await shot('grants-with-requests');
  });

  await step('review and sign: the wizard is pre-filled from the request', async () => {
    await page.click(`a[data-review="${request}"]`);
    await page.waitForSelector('form.wizard[data-step="0"]');
    await page.waitForSelector(`#request-banner[data-request="${request}"]`);
    assert(await page.isChecked(`input[name="platform"][value="${PLATFORM}"]`), 'the platform is chosen');
    assert(await page.isChecked(`input[data-bank="${BANK}"]`), 'the bank is chosen');
    await shot('wizard-request-1-recipients');
    await page.click('#wizard-next');
    await page.waitForSelector('form.wizard[data-step="1"]');
    assert(await page.isChecked('input[data-cat="TAX-03"]') && await page.isChecked('input[data-cat="SOC-01"]'), 'the categories');
    assert((await page.inputValue(`select[data-bank-cat="${BANK}:SOC-01"]`)) === 'derived', 'the bank\'s categories');
    // Widening is refused next to the field: raw where derived was asked.
    await page.selectOption('select[data-gran="TAX-03"]', 'raw');
    await page.click('#wizard-next');
    assert((await page.textContent('[data-field="categories"] > .error')).length > 0, 'raw where derived was asked is refused');
    await shot('wizard-request-2-widen-refused');
    await page.selectOption('select[data-gran="TAX-03"]', 'derived');
    await page.click('#wizard-next');
    await page.waitForSelector('form.wizard[data-step="2"]');
  });

  await step('narrow one term: 2 releases a month instead of 4 (5 is refused)', async () => {
    assert(await page.isChecked('input[data-purpose="credit-approval"]') && await page.isChecked('input[data-purpose="pre-loan-due-diligence"]'), 'the purposes');
    assert((await page.inputValue('[data-field="maxReleases"] input')) === '4', 'the usage');
    await page.fill('[data-field="maxReleases"] input', '5');
    await page.click('#wizard-next');
    assert((await page.textContent('[data-field="maxReleases"] .error')).length > 0, 'more releases than asked is refused');
    await page.fill('[data-field="maxReleases"] input', '2');
    // Leave the field first: its change clears the error shown below it, and the layout with it.
    await page.press('[data-field="maxReleases"] input', 'Tab');
    await shot('wizard-request-3-narrowed');
    await page.click('#wizard-next');
    await page.waitForSelector('form.wizard[data-step="3"][data-letters-loaded]');
    await page.check('input[data-accept="STA/1"]');
    await page.check('input[data-accept="MOHRSS/1"]');
    await shot('wizard-request-4-letters');
    await page.click('#wizard-next');
    await page.waitForSelector('#canonical-doc');
  });

  await step('sign in the browser: the grant answers the request', async () => {
    const doc = JSON.parse(await page.textContent('#canonical-doc'));
    assert(doc.credentialSubject.usage.maxReleases === 2, 'what is signed is narrowed');
    await shot('wizard-request-5-preview');
    await confirmWith(() => page.click('#sign-btn'));
    await page.waitForSelector('#grant-done', { timeout: 30000 });
    await page.waitForSelector(`#request-signed[data-request="${request}"]`);
    grant = (await page.textContent('#grant-id')).trim();
    assert(grant === doc.id, 'the grant signed is the grant stored');
    emit({ event: 'grant', id: grant });
    await shot('wizard-request-6-signed');
  });

  await step('the bank sees the request signed with the grant', async () => {
    const r = await api(bankKey, 'GET', `/v1/consent-requests/${request}`);
    assert(r.status === 200 && r.body.state === 'signed' && r.body.grant === grant, `the request: ${JSON.stringify(r.body)}`);
  });

  await step('a release to the bank through its platform succeeds under the new grant', async () => {
    const r = await api(platformKey, 'POST', '/v1/releases', { enterprise: USCC, grant, categories: ['TAX-03'], granularity: 'derived', purpose: 'credit-approval', onBehalfOf: BANK });
    assert(r.status === 200 && r.body.data['TAX-03'].granularity === 'derived', `release: ${r.status} ${JSON.stringify(r.body)}`);
    emit({ event: 'release', status: r.status, logIndex: r.body.logIndex });
  });

  await step('the other request is declined with a reason', async () => {
    await page.goto(`${base}/portal/#/grants`);
    await page.reload();
    await waitRoute('#/grants');
    const card = page.locator(`li.request[data-request="${declined}"]`);
    await card.waitFor();
    assert((await page.locator(`li.request[data-request="${request}"]`).count()) === 0, 'the signed request is no longer pending');
    await shot('grants-one-request-left');
    await confirmWith(() => card.locator(`button[data-decline="${declined}"]`).click(), (dlg) => dlg.locator('#decline-reason').fill('暂无融资需求'));
    await page.waitForFunction((id) => !document.querySelector(`li.request[data-request="${id}"]`), declined);
    const r = await api(bankKey, 'GET', `/v1/consent-requests/${declined}`);
    assert(r.body.state === 'declined' && r.body.declineReason === '暂无融资需求', `declined: ${JSON.stringify(r.body)}`);
    await page.waitForSelector(`li.grant[data-grant="${grant}"][data-state="active"]`);
    await shot('grants-after-answers');
  });

  await step('nothing left this origin, no script error', async () => {
    assert(problems.external.length === 0, `external requests: ${problems.external}`);
    assert(problems.pageErrors.length === 0, `script errors: ${problems.pageErrors}`);
  });
  emit({ event: 'done', ok: true, request, grant, screenshots: shotNo });
} catch (e) {
  console.error(e.message);
  emit({ event: 'done', ok: false, error: e.message });
  process.exitCode = 1;
} finally {
  await ctx.close().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
}
