#!/usr/bin/env node
// End-to-end test of the Consentry portal in Debian's Chromium, driven by Playwright.
//
//   node tests/portal/e2e.mjs <nodeUrl> <screenshotDir>
//
// Environment (tests/integration/portal.rs sets them):
//   PORTAL_NODE_KEY        the node's key file (node.key.json in its data folder): the operator signs in with it
//   PORTAL_REGULATOR_KEY   a regulator's key file
//   PORTAL_PLATFORM_KEY    the admitted platform's key file: this script calls /v1/releases as the platform
//   PORTAL_ENTERPRISE_USCC, PORTAL_ENTERPRISE_NAME   the enterprise that registers in the browser
//   PORTAL_DOWNLOADS       where downloaded files go (default <screenshotDir>/downloads)
//
// The story: an enterprise creates its key in the browser and registers; the operator approves it;
// the enterprise signs a grant with the wizard; the platform gets data; the enterprise sees the
// access with a mark verified in the page (and a tampered record marked as failed); it objects to the
// access (reason, attachments digested in the page, the exact claims previewed and signed in the
// browser) and sees the objection forwarded with its deadline; the platform has it evaluated (a
// signed CreditEvaluation); the enterprise authorizes its 苏信码 display, an anonymous browser sees
// the grade verified in the page with the QR code, the enterprise revokes the display and the page
// shows nothing of it on reload, and an unknown enterprise's page says so; it revokes; the next release is
// refused; a regulator finds the whole chain and the objection; the operator reviews and resolves the
// objection with the node key, and the enterprise sees the outcome. A second grant is made with the
// keyboard only, at 360×740. Screenshots of each step go to <screenshotDir>, numbered in order.
//
// Prints one JSON object per line on stdout ({"event": …}); the last one is {"event":"done","ok":true}.
// Exits 1 on the first failure (after a screenshot named …-FAILED.png).

import { createHash } from 'node:crypto';
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
  console.error('usage: node tests/portal/e2e.mjs <nodeUrl> <screenshotDir>');
  process.exit(2);
}
const env = (k, d) => process.env[k] || d;
const NODE_KEY = env('PORTAL_NODE_KEY');
const REG_KEY = env('PORTAL_REGULATOR_KEY');
const PLATFORM_KEY = env('PORTAL_PLATFORM_KEY');
const USCC = env('PORTAL_ENTERPRISE_USCC', '91330106MA2B3C4D11');
const NEW_PLATFORM = env('PORTAL_NEW_PLATFORM_USCC', '91330000MA28PLAT2L');
const NAME = env('PORTAL_ENTERPRISE_NAME', '杭州测试贸易有限公司');
const downloads = env('PORTAL_DOWNLOADS', path.join(shotDir, 'downloads'));
for (const [k, v] of Object.entries({ PORTAL_NODE_KEY: NODE_KEY, PORTAL_REGULATOR_KEY: REG_KEY, PORTAL_PLATFORM_KEY: PLATFORM_KEY })) {
  if (!v || !fs.existsSync(v)) {
    console.error(`${k} must name an existing key file`);
    process.exit(2);
  }
}
fs.mkdirSync(shotDir, { recursive: true });
fs.mkdirSync(downloads, { recursive: true });
for (const f of fs.readdirSync(shotDir)) if (f.endsWith('.png')) fs.rmSync(path.join(shotDir, f));

const PASS = 'correct horse battery staple';
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const log = (...a) => console.error('[e2e]', ...a);
function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

// ------------------------------------------------------------------ browsers and evidence

let shotNo = 0;
const problems = { external: [], csp: [], pageErrors: [] };
const contexts = [];

async function openBrowser(label, viewport = { width: 1280, height: 900 }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `consentry-${label}-`));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
    acceptDownloads: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  contexts.push({ ctx, dir });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(20000);
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:') && !u.startsWith('about:')) problems.external.push(u);
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.csp.push(m.text());
  });
  page.on('pageerror', (e) => problems.pageErrors.push(`${label}: ${e.message}`));
  page.label = label;
  return page;
}

async function shot(page, name) {
  shotNo += 1;
  const file = path.join(shotDir, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  emit({ event: 'screenshot', file });
  return file;
}

let current = null;
async function step(name, fn) {
  log(name);
  try {
    await fn();
  } catch (e) {
    if (current) {
      try {
        await shot(current, `${name.replace(/[^a-z0-9]+/gi, '-')}-FAILED`);
      } catch {
        /* the page may be gone */
      }
    }
    throw new Error(`${name}: ${e.stack || e.message}`);
  }
}

async function open(page, hash) {
  current = page;
  const url = `${base}/portal/${hash}`;
  const sameDocument = page.url().split('#')[0] === url.split('#')[0];
  await page.goto(url);
  // A new hash alone does not load the page again, and data-ready is still set from the first load:
  // reload, so that data-ready means this page has rendered (otherwise a busy machine reads the old one).
  if (sameDocument) await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
}

async function waitRoute(page, hash) {
  await page.waitForFunction((h) => location.hash.startsWith(h), hash);
  // The page of this route, fully rendered: the previous page also had an h1, so waiting for one
  // could return before the new page had loaded its data.
  const name = hash.replace(/^#\/?/, '').split('/')[0];
  await page.waitForSelector(`.page[data-page="${name}"][data-ready] h1`);
}

/** Clicks a button and answers the confirmation dialog (true: confirm, false: cancel). */
async function confirmWith(page, trigger, answer = true) {
  await trigger();
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor();
  await dlg.locator(answer ? 'button[data-confirm]' : 'button[value="cancel"]').click();
  await dlg.waitFor({ state: 'detached' });
}

async function saveDownload(page, trigger, name) {
  const [d] = await Promise.all([page.waitForEvent('download'), trigger()]);
  const file = path.join(downloads, name);
  await d.saveAs(file);
  return file;
}

/** Presses Tab until `selector` has focus; every element focused on the way must show its focus. */
async function tabTo(page, selector, { max = 400 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const info = await page.evaluate((sel) => {
      const a = document.activeElement;
      // Nothing, or a heading the page focused after it changed (tabindex=-1: not a Tab stop).
      if (!a || a === document.body || a === document.documentElement || a.getAttribute('tabindex') === '-1') return { body: true };
      const cs = getComputedStyle(a);
      const visible = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2) || cs.boxShadow !== 'none';
      return { match: a.matches(sel), visible, desc: `${a.tagName.toLowerCase()}#${a.id}.${a.className}[${a.getAttribute('data-cat') || a.getAttribute('name') || ''}]` };
    }, selector);
    if (info.body) continue;
    if (!info.visible) throw new Error(`keyboard focus is not visible on ${info.desc}`);
    if (info.match) return i + 1;
  }
  throw new Error(`${selector} cannot be reached with Tab (${max} presses)`);
}

async function noHorizontalScroll(page, where) {
  const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
  assert(sw <= cw + 1, `${where}: the page scrolls sideways at ${cw}px (content ${sw}px wide)`);
}

// ------------------------------------------------------------------ the node's API, as the platform

const nodeInfo = await (await fetch(`${base}/v1/node`)).json();
const platformKey = await pc.importKeyFile(JSON.parse(fs.readFileSync(PLATFORM_KEY, 'utf8')));
const nodeKey = await pc.importKeyFile(JSON.parse(fs.readFileSync(NODE_KEY, 'utf8')));

/** An admin API call with the node key (what the operator's command line does). */
async function admin(p, body) {
  const token = await pc.clientAssertion(nodeKey, nodeInfo.did, 'POST', p);
  const r = await fetch(`${base}${p}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' }, body });
  return { status: r.status, body: await r.json() };
}

async function release(body) {
  const p = '/v1/releases';
  const token = await pc.clientAssertion(platformKey, nodeInfo.did, 'POST', p);
  const r = await fetch(`${base}${p}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

async function evaluate(body) {
  const p = '/v1/evaluations';
  const token = await pc.clientAssertion(platformKey, nodeInfo.did, 'POST', p);
  const r = await fetch(`${base}${p}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

/** Loads the public 苏信码 page of `uscc` afresh and returns what it shows. */
async function publicPage(page, uscc) {
  current = page;
  await page.goto(`${base}/sxm/${uscc}`);
  await page.waitForSelector('body[data-ready="1"]');
  // The page is ready before its QR image has finished loading: wait for the image, if there is one.
  await page.waitForFunction(() => {
    const img = document.querySelector('#sxm-qr');
    return !img || img.complete;
  });
  return page.evaluate(() => ({
    display: document.body.dataset.display,
    grade: document.querySelector('#sxm-grade')?.textContent ?? null,
    checks: [...document.querySelectorAll('#sxm-checks li')].map((li) => li.textContent),
    qr: document.querySelector('#sxm-qr')?.naturalWidth ?? 0,
    message: document.querySelector('#sxm-message')?.textContent ?? '',
  }));
}

async function waitMarks(page, scope) {
  await page.waitForFunction((s) => {
    const box = document.querySelector(s);
    return box && box.dataset.done === '1' && !box.querySelector('[data-verified="pending"]');
  }, scope, { timeout: 60000 });
  return page.$$eval(`${scope} li.entry`, (els) => els.map((e) => ({ index: Number(e.dataset.index), kind: e.dataset.kind, verified: e.querySelector('[data-verified]').dataset.verified, text: e.querySelector('.mark').textContent })));
}

// ------------------------------------------------------------------ the story

const ent = await openBrowser('enterprise');
let bank;
let platform;
let grant1;
let grant2;
const files = [];

try {
  await step('crypto self-test in the browser (spec vectors)', async () => {
    await open(ent, '');
    const V = path.join(root, 'spec/vectors');
    const rd = (p) => fs.readFileSync(path.join(V, p), 'utf8');
    const data = {
      kp: JSON.parse(rd('eddsa-jcs-2022/keyPair.json')),
      unsigned: JSON.parse(rd('eddsa-jcs-2022/unsigned.json')),
      signed: JSON.parse(rd('eddsa-jcs-2022/signedJCS.json')),
      grantKey: JSON.parse(fs.readFileSync(path.join(root, 'spec/examples/enterprise.key.json'), 'utf8')),
      grant: JSON.parse(fs.readFileSync(path.join(root, 'spec/examples/grant.unsigned.json'), 'utf8')),
      grantSigned: JSON.parse(fs.readFileSync(path.join(root, 'spec/examples/grant.signed.di.json'), 'utf8')),
      jcs: fs.readdirSync(path.join(V, 'jcs-rfc8785/input')).map((f) => [rd(`jcs-rfc8785/input/${f}`), rd(`jcs-rfc8785/output/${f}`)]),
      incl: JSON.parse(rd('merkle/probes_inclusion.json')).probes,
      cons: JSON.parse(rd('merkle/probes_consistency.json')).probes,
    };
    const out = await ent.evaluate(async (d) => {
      const c = await import('/portal/crypto.js');
      const v = await import('/portal/verify.js');
      const u = await import('/portal/uscc.js');
      const res = {};
      const pub = c.fromBase58(d.kp.publicKeyMultibase.slice(1)).slice(2);
      const seed = c.fromBase58(d.kp.privateKeyMultibase.slice(1)).slice(2);
      const key = await c.importKeyFile(c.keyFileFromSeed(seed, pub));
      res.eddsaVector = (await c.createProof(d.unsigned, key, d.signed.proof.created)).proof.proofValue === d.signed.proof.proofValue;
      res.verifyVector = (await c.verifyProof(d.signed)) === d.kp.publicKeyMultibase.replace(/^/, 'did:key:');
      const gk = await c.importKeyFile(d.grantKey);
      res.grantExample = (await c.createProof(d.grant, gk, '2026-11-30T08:00:00Z')).proof.proofValue === d.grantSigned.proof.proofValue;
      res.jcs = d.jcs.every(([i, o]) => c.canonicalize(JSON.parse(i)) === o);
      const hx = (s) => (s === '' ? new Uint8Array(0) : c.fromHex(s));
      let bad = 0;
      for (const p of d.incl) {
        const ok = await v.verifyInclusion(p.leaf_index, p.tree_size, hx(p.leaf_hash), p.proof.map(hx), hx(p.root)).catch(() => false);
        if (ok === !!p.want_err) bad += 1;
      }
      for (const p of d.cons) {
        const ok = await v.verifyConsistency(p.size1, p.size2, hx(p.root1), hx(p.root2), p.proof.map(hx)).catch(() => false);
        if (ok === !!p.want_err) bad += 1;
      }
      res.merkleMismatches = bad;
      res.uscc = u.isValidUscc('91330100716105852F') && !u.isValidUscc('91330100716105852G') && !u.isValidUscc('91330100716105853F');
      res.base58Zeros = c.base58(Uint8Array.of(0, 0, 7)) === '118' && c.hex(c.fromBase58('118')) === '000007';
      return res;
    }, data);
    emit({ event: 'selftest', ...out });
    assert(out.eddsaVector && out.verifyVector && out.grantExample && out.jcs && out.merkleMismatches === 0 && out.uscc && out.base58Zeros, JSON.stringify(out));
  });

  await step('sign-in page in Chinese, English switch remembered', async () => {
    await open(ent, '#/signin');
    assert((await ent.textContent('.page h1')).includes('登录'), 'Chinese first');
    await shot(ent, 'signin-zh');
    await ent.click('#lang');
    await ent.waitForFunction(() => document.querySelector('.page h1')?.textContent.includes('Sign in'));
    await ent.reload();
    await ent.waitForSelector('body[data-ready="1"]');
    assert((await ent.textContent('.page h1')).includes('Sign in'), 'English remembered after reload');
    assert((await ent.getAttribute('html', 'lang')) === 'en', 'html lang follows');
    await shot(ent, 'signin-en');
    await ent.click('#lang');
    await ent.waitForFunction(() => document.querySelector('.page h1')?.textContent.includes('登录'));
  });

  let backupFile;
  await step('the enterprise creates its key in the browser (non-extractable, encrypted backup)', async () => {
    await ent.fill('#create-key [data-field="passphrase"] input', 'short');
    await ent.click('#create-key-btn');
    assert((await ent.textContent('#create-key [data-field="passphrase"] .error')).length > 0, 'a short passphrase is refused next to its field');
    await ent.fill('#create-key [data-field="passphrase"] input', PASS);
    await ent.fill('#create-key [data-field="passphrase2"] input', PASS);
    backupFile = await saveDownload(ent, () => ent.click('#create-key-btn'), 'enterprise.backup.json');
    await ent.waitForSelector('#create-key .status.ok');
    const backup = JSON.parse(fs.readFileSync(backupFile, 'utf8'));
    assert(backup.format === 'consentry-key-backup' && backup.kdf.iterations >= 600000 && backup.kdf.hash === 'SHA-256' && backup.cipher.name === 'AES-GCM', 'backup parameters');
    assert(!JSON.stringify(backup).includes('secretKeyMultibase'), 'the backup holds no clear secret');
    const keys = await ent.evaluate(async () => {
      const c = await import('/portal/crypto.js');
      const ks = await c.listKeys();
      const out = [];
      for (const k of ks) {
        let exported = true;
        try {
          await crypto.subtle.exportKey('jwk', k.privateKey);
        } catch {
          exported = false;
        }
        out.push({ did: k.did, extractable: k.privateKey.extractable, exported });
      }
      return out;
    });
    assert(keys.length === 1 && keys[0].extractable === false && keys[0].exported === false, `stored key is non-extractable: ${JSON.stringify(keys)}`);
    const restored = await ent.evaluate(async ([b, p]) => {
      const c = await import('/portal/crypto.js');
      const file = await c.openBackup(b, p);
      const k = await c.importKeyFile(file);
      let wrong = null;
      try {
        await c.openBackup(b, `${p}!`);
      } catch (e) {
        wrong = e.code;
      }
      const changed = { ...b, ciphertext: b.ciphertext.slice(0, -2) + (b.ciphertext.endsWith('A') ? 'BA' : 'AA') };
      let tampered = null;
      try {
        await c.openBackup(changed, p);
      } catch (e) {
        tampered = e.code;
      }
      return { did: k.did, extractable: k.privateKey.extractable, wrong, tampered };
    }, [backup, PASS]);
    assert(restored.did === keys[0].did && restored.extractable === false && restored.wrong === 'wrong-passphrase' && restored.tampered === 'wrong-passphrase', `backup restores: ${JSON.stringify(restored)}`);
    emit({ event: 'enterprise-key', did: keys[0].did, backup: backupFile });
    await shot(ent, 'key-created');
  });

  await step('an unregistered key cannot sign in', async () => {
    await ent.click('#signin-btn');
    await ent.waitForSelector('#stored-keys .status.bad a[href="#/register"]');
  });

  await step('registration: live USCC check, then pending', async () => {
    await open(ent, '#/register');
    const u = ent.locator('#register-form [data-field="uscc"] input');
    await u.fill(`${USCC.slice(0, 17)}${USCC[17] === 'A' ? 'B' : 'A'}`);
    await ent.waitForFunction(() => document.querySelector('#register-form [data-field="uscc"] .error').textContent.includes('18'));
    assert((await u.getAttribute('aria-invalid')) === 'true', 'the field is marked invalid');
    await u.fill(`${USCC.slice(0, 5)}O`);
    await ent.waitForFunction(() => /O/.test(document.querySelector('#register-form [data-field="uscc"] .error').textContent));
    await u.fill(`${USCC.slice(0, 17)}${USCC[17] === 'A' ? 'B' : 'A'}`);
    await shot(ent, 'register-uscc-error');
    await u.fill(USCC);
    await ent.waitForFunction(() => document.querySelector('#register-form [data-field="uscc"] .error').textContent === '');
    await ent.click('#register-btn');
    assert((await ent.textContent('#register-form [data-field="name"] .error')).length > 0, 'an empty name is refused next to its field');
    await ent.fill('#register-form [data-field="name"] input', NAME);
    await ent.click('#register-btn');
    await ent.waitForSelector('#register-done');
    assert((await ent.textContent('#register-done')).includes('待节点审核'), 'pending until the node approves');
    await shot(ent, 'register-pending');
  });

  await step('the pending enterprise signs in and sees it is pending', async () => {
    await open(ent, '#/signin');
    await ent.click('#signin-btn');
    await waitRoute(ent, '#/pending');
    assert((await ent.textContent('#pending-state')).includes('待节点审核'), 'pending page');
    const cookieVisible = await ent.evaluate(() => document.cookie.includes('consentry_session'));
    assert(!cookieVisible, 'the session cookie is HttpOnly');
    await shot(ent, 'pending');
  });

  const op = await openBrowser('operator');
  await step('the operator signs in with the node key file and approves', async () => {
    await open(op, '#/signin');
    await op.setInputFiles('#import-key input[type="file"]', NODE_KEY);
    await op.click('#import-key-btn');
    await op.waitForSelector('#import-key .status.ok');
    await op.click('#signin-btn');
    await waitRoute(op, '#/registrations');
    const card = op.locator(`li.registration[data-uscc="${USCC}"]`);
    await card.waitFor();
    await shot(op, 'operator-registrations');
    await confirmWith(op, () => card.locator('button[data-decision="approve"]').click());
    await op.waitForSelector('#no-registrations');
    await shot(op, 'operator-approved');
  });

  await step('the operator sees the platforms and their banks', async () => {
    await op.click('nav a[href="#/platforms"]');
    await waitRoute(op, '#/platforms');
    const p = await op.$$eval('li.platform', (els) => els.map((e) => ({ uscc: e.dataset.uscc, state: e.dataset.state, banks: [...e.querySelectorAll('table.banks tbody tr')].length })));
    assert(p.some((x) => x.state === 'active' && x.banks >= 1), `a platform with its bank: ${JSON.stringify(p)}`);
    await shot(op, 'operator-platforms');
  });

  await step('the operator admits a platform in the browser, suspends, reactivates and removes it', async () => {
    const pair = await globalThis.crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const did = pc.didKey(new Uint8Array(await globalThis.crypto.subtle.exportKey('raw', pair.publicKey)));
    const form = op.locator('#admit-form');
    await form.locator('[data-field="uscc"] input').fill(`${NEW_PLATFORM.slice(0, 17)}0`);
    await form.locator('[data-field="name"] input').fill('新平台');
    await form.locator('[data-field="did"] input').fill('did:key:nope');
    await form.locator('[data-field="endpoint"] input').fill('https://new-platform.example');
    await form.locator('button[type="submit"]').click();
    assert((await form.locator('[data-field="uscc"] .error').textContent()).length > 0, 'a wrong USCC is shown next to its field');
    assert((await form.locator('[data-field="did"] .error').textContent()).length > 0, 'a wrong DID is shown next to its field');
    await form.locator('[data-field="uscc"] input').fill(NEW_PLATFORM);
    await form.locator('[data-field="did"] input').fill(did);
    await form.locator('button[type="submit"]').click();
    const card = (state) => op.locator(`li.platform[data-uscc="${NEW_PLATFORM}"][data-state="${state}"]`);
    await card('active').waitFor();
    await confirmWith(op, () => card('active').locator('button[data-set-state="suspended"]').click());
    await card('suspended').waitFor();
    await shot(op, 'operator-platform-suspended');
    await confirmWith(op, () => card('suspended').locator('button[data-set-state="active"]').click());
    await card('active').waitFor();
    await confirmWith(op, () => card('active').locator('button[data-set-state="removed"]').click());
    await card('removed').waitFor();
    assert((await card('removed').locator('button').count()) === 0, 'removal is final: no more actions');
    const dir = await op.evaluate(async () => (await (await fetch('/portal/api/directory')).json()).platforms.map((p) => p.uscc));
    assert(!dir.includes(NEW_PLATFORM), 'a removed platform is not offered to enterprises');
  });

  await step('the enterprise is approved', async () => {
    current = ent;
    await ent.click('#pending-refresh');
    await waitRoute(ent, '#/grants');
    await shot(ent, 'grants-empty');
  });

  await step('grant wizard, step 1: platform and bank', async () => {
    await ent.click('a[href="#/wizard/new"]');
    await ent.waitForSelector('form.wizard[data-step="0"]');
    await ent.click('#wizard-next');
    assert((await ent.textContent('[data-field="platform"] .error')).length > 0, 'a platform is required (error next to the field)');
    const dir = await ent.evaluate(async () => (await (await fetch('/portal/api/directory')).json()).platforms);
    platform = dir.find((p) => p.banks.length);
    bank = platform.banks[0];
    await ent.check(`input[name="platform"][value="${platform.uscc}"]`);
    await ent.check(`input[data-bank="${bank.uscc}"]`);
    await shot(ent, 'wizard-1-recipients');
    await ent.click('#wizard-next');
    await ent.waitForSelector('form.wizard[data-step="1"]');
  });

  await step('step 2: categories, granularity, bank raw disabled for non-public data', async () => {
    await ent.click('#wizard-next');
    assert((await ent.textContent('[data-field="categories"] > .error')).length > 0, 'a category is required');
    await ent.check('input[data-cat="TAX-03"]');
    await ent.selectOption('select[data-gran="TAX-03"]', 'raw');
    await ent.check('input[data-cat="SOC-01"]');
    await ent.check('input[data-cat="REG-01"]');
    await ent.selectOption('select[data-gran="REG-01"]', 'raw');
    const bc = (code) => `select[data-bank-cat="${bank.uscc}:${code}"]`;
    const rawTax = await ent.$eval(`${bc('TAX-03')} option[value="raw"]`, (o) => o.disabled);
    const rawReg = await ent.$eval(`${bc('REG-01')} option[value="raw"]`, (o) => o.disabled);
    const rawSoc = await ent.$eval(`${bc('SOC-01')} option[value="raw"]`, (o) => o.disabled);
    assert(rawTax && rawSoc && !rawReg, `raw disabled for banks on non-public data only (TAX ${rawTax}, SOC ${rawSoc}, REG ${rawReg})`);
    await ent.click('#wizard-next');
    assert((await ent.textContent(`[data-field="bank-${bank.uscc}"] .error`)).length > 0, 'a chosen bank needs a category');
    await ent.selectOption(bc('TAX-03'), 'derived');
    await ent.selectOption(bc('REG-01'), 'raw');
    await shot(ent, 'wizard-2-data');
    await ent.click('#wizard-next');
    await ent.waitForSelector('form.wizard[data-step="2"]');
  });

  await step('step 3: purposes, period, validity, usage', async () => {
    await ent.click('#wizard-next');
    assert((await ent.textContent('[data-field="purposes"] .error')).length > 0, 'a purpose is required');
    await ent.check('input[data-purpose="credit-approval"]');
    await ent.check('input[data-purpose="post-loan-management"]');
    await ent.check('input[data-purpose="financing-credit-evaluation"]');
    await ent.fill('[data-field="dataFrom"] input', '2024-01-01');
    await ent.fill('[data-field="dataUntil"] input', '2023-01-01');
    await ent.click('#wizard-next');
    assert((await ent.textContent('[data-field="dataUntil"] .error')).length > 0, 'the period must not end before it starts');
    await ent.fill('[data-field="dataUntil"] input', '2026-10-31');
    await ent.fill('[data-field="maxReleases"] input', '4');
    await ent.selectOption('[data-field="per"] select', 'month');
    await shot(ent, 'wizard-3-terms');
    await ent.click('#wizard-next');
    await ent.waitForSelector('form.wizard[data-step="3"]');
  });

  await step('step 4: each department\'s letter, in full, accepted', async () => {
    await ent.waitForSelector('form.wizard[data-step="3"][data-letters-loaded]');
    const letters = await ent.$$eval('fieldset.letter', (els) => els.map((e) => ({ id: e.dataset.letter, zh: e.querySelector('.letter-text[lang="zh-CN"]').textContent.length, en: e.querySelector('.letter-text[lang="en"]').textContent.length, checked: e.querySelector('.badge.ok') !== null })));
    assert(letters.map((l) => l.id).sort().join() === 'MOHRSS/1,STA/1', `letters of the non-public categories' providers: ${JSON.stringify(letters)}`);
    assert(letters.every((l) => l.zh > 200 && l.en > 200 && l.checked), 'shown in full, both languages, digest checked in the page');
    await ent.click('#wizard-next');
    assert((await ent.textContent('[data-field="letter-STA"] .error')).length > 0, 'each letter must be accepted');
    await ent.check('input[data-accept="STA/1"]');
    await ent.check('input[data-accept="MOHRSS/1"]');
    await shot(ent, 'wizard-4-letters');
    await ent.click('#wizard-next');
    await ent.waitForSelector('#canonical-doc');
  });

  await step('step 5: preview in both languages, the exact bytes, cancel keeps everything, sign', async () => {
    const zh = await ent.textContent('#summary-zh');
    const en = await ent.textContent('#summary-en');
    assert(zh.includes(NAME) && zh.includes('授信审批') && zh.includes('每月最多 4 次'), 'Chinese summary');
    assert(en.includes('Credit approval') && en.includes('at most 4 time(s) per month'), 'English summary');
    const canonical = await ent.textContent('#canonical-doc');
    const doc = JSON.parse(canonical);
    assert(canonical === pc.canonicalize(doc), 'the canonical view is the JCS form');
    assert(doc.credentialSubject.enterprise.uscc === USCC && doc.credentialSubject.onwardRecipients[0].categories.some((c) => c.code === 'TAX-03' && c.granularity === 'derived'), 'what is signed');
    await shot(ent, 'wizard-5-preview');
    await confirmWith(ent, () => ent.click('#sign-btn'), false);
    await ent.waitForFunction(() => document.querySelector('form.wizard .status').textContent.includes('已取消签名'));
    await ent.reload();
    await ent.waitForSelector('#canonical-doc');
    assert((await ent.textContent('#canonical-doc')) === canonical, 'nothing lost after a cancelled signature and a reload');
    // The network fails on the first submission: the signed grant is kept, Retry sends the same bytes.
    let failOnce = true;
    await ent.route('**/portal/api/grants', (route) => {
      if (route.request().method() === 'POST' && failOnce) {
        failOnce = false;
        return route.abort('failed');
      }
      return route.continue();
    });
    await confirmWith(ent, () => ent.click('#sign-btn'));
    await ent.waitForSelector('.problems .alert button.retry');
    assert((await ent.textContent('.problems .alert')).includes('网络'), 'the network failure is explained');
    await shot(ent, 'wizard-network-failed');
    await ent.click('.problems .alert button.retry');
    await ent.waitForSelector('#grant-done', { timeout: 30000 });
    await ent.unroute('**/portal/api/grants');
    grant1 = (await ent.textContent('#grant-id')).trim();
    assert(grant1 === doc.id, 'the id signed is the id stored');
    emit({ event: 'grant', id: grant1 });
    await shot(ent, 'wizard-6-done');
  });

  await step('the signed credential downloads', async () => {
    await ent.click('a[href^="#/grant/"]');
    await ent.waitForSelector('#download-grant');
    const f = await saveDownload(ent, () => ent.click('#download-grant'), 'grant-1.json');
    const g = JSON.parse(fs.readFileSync(f, 'utf8'));
    assert(g.id === grant1 && g.proof.cryptosuite === 'eddsa-jcs-2022', 'the download is the signed grant');
    assert((await pc.verifyProof(g)) === g.issuer, 'its proof verifies (Node.js WebCrypto)');
    files.push(f);
    emit({ event: 'credential', id: grant1, file: f });
    await shot(ent, 'grant-detail');
  });

  await step('the platform receives data under the grant', async () => {
    const r = await release({ enterprise: USCC, grant: grant1, categories: ['TAX-03'], granularity: 'derived', purpose: 'credit-approval', onBehalfOf: bank.uscc });
    assert(r.status === 200, `release: ${r.status} ${JSON.stringify(r.body)}`);
    const raw = await release({ enterprise: USCC, grant: grant1, categories: ['TAX-03'], granularity: 'raw', purpose: 'credit-approval' });
    assert(raw.status === 200 && raw.body.data['TAX-03'].records.length >= 1, `raw for the platform: ${raw.status}`);
    emit({ event: 'release', status: r.status, logIndex: r.body.logIndex ?? null });
  });

  let releaseIndex;
  await step('the enterprise sees the access, verified in the page', async () => {
    await open(ent, '#/history');
    const marks = await waitMarks(ent, '#history');
    const rel = marks.filter((m) => m.kind === 'release');
    assert(rel.length === 2, `two releases in the history: ${JSON.stringify(marks)}`);
    assert(marks.every((m) => m.verified === 'true' && m.text.includes('已验证 verified')), `every entry verified: ${JSON.stringify(marks)}`);
    releaseIndex = rel[0].index;
    await ent.click(`li.entry[data-index="${releaseIndex}"] details summary`);
    await shot(ent, 'history-verified');
  });

  await step('a tampered record, or a tampered proof, shows the failure mark', async () => {
    await ent.route('**/portal/api/history**', async (route) => {
      const resp = await route.fetch();
      const body = await resp.json();
      for (const e of body.entries) if (e.index === releaseIndex) e.record.purpose = 'marketing';
      await route.fulfill({ response: resp, json: body });
    });
    await ent.reload();
    await ent.waitForSelector('body[data-ready="1"]');
    let marks = await waitMarks(ent, '#history');
    const bad = marks.find((m) => m.index === releaseIndex);
    assert(bad.verified === 'false' && bad.text.includes('验证失败'), `the changed record fails: ${JSON.stringify(bad)}`);
    assert(marks.filter((m) => m.index !== releaseIndex).every((m) => m.verified === 'true'), 'the others still verify');
    await ent.click(`li.entry[data-index="${releaseIndex}"] details summary`);
    const failed = await ent.textContent(`li.entry[data-index="${releaseIndex}"] .steps-result li.bad`);
    assert(failed.includes('记录承诺'), `the failing step is the commitment: ${failed}`);
    await shot(ent, 'history-tampered-record');
    await ent.unroute('**/portal/api/history**');
    await ent.route(`**/v1/log/receipts/${releaseIndex}`, async (route) => {
      const resp = await route.fetch();
      const lines = (await resp.text()).split('\n');
      const i = lines.findIndex((l) => l.startsWith('index '));
      lines[i + 1] = Buffer.from(Buffer.from(lines[i + 1], 'base64').map((b, k) => (k === 0 ? b ^ 1 : b))).toString('base64');
      await route.fulfill({ response: resp, body: lines.join('\n') });
    });
    await ent.reload();
    await ent.waitForSelector('body[data-ready="1"]');
    marks = await waitMarks(ent, '#history');
    assert(marks.find((m) => m.index === releaseIndex).verified === 'false', 'a changed inclusion proof fails');
    await ent.unroute(`**/v1/log/receipts/${releaseIndex}`);
    await ent.route('**/v1/log/receipts/*', async (route) => {
      const resp = await route.fetch();
      const text = await resp.text();
      await route.fulfill({ response: resp, body: text.replace(/(\n— \S+ )(\S)/, (m, a, ch) => a + (ch === 'A' ? 'B' : 'A')) });
    });
    await ent.reload();
    await ent.waitForSelector('body[data-ready="1"]');
    marks = await waitMarks(ent, '#history');
    assert(marks.every((m) => m.verified === 'false'), 'a changed checkpoint signature fails everywhere');
    await ent.unroute('**/v1/log/receipts/*');
  });

  await step('my data, free', async () => {
    await open(ent, '#/data');
    const rows = await ent.$$eval('table.records tbody tr', (r) => r.length);
    assert(rows >= 3, `own records listed: ${rows}`);
    const objectLinks = await ent.$$eval('table.records a[data-object]', (a) => a.map((x) => x.getAttribute('href')));
    assert(objectLinks.length === rows && objectLinks.every((h) => /^#\/object\/data\/\d+$/.test(h)), `each record can be objected to: ${objectLinks}`);
    await shot(ent, 'my-data');
  });

  const REASON = '该银行并未在我方知情的情况下申请授信,此次数据使用存疑。 The bank did not apply for credit with us: this access is questionable.';
  let objectionId;
  let objectionDigests;
  await step('the enterprise objects to an access entry from its history: reason, attachments digested in the page, exact claims signed', async () => {
    await open(ent, '#/history');
    await waitMarks(ent, '#history');
    await ent.click(`li.entry[data-index="${releaseIndex}"] a[data-object]`);
    await waitRoute(ent, `#/object/access/${releaseIndex}`);
    await ent.waitForSelector('#objection-form');
    assert((await ent.textContent('#objection-target')).includes(`#${releaseIndex}`), 'the form names the entry');
    // The reason is required, and at most 2000 characters: said next to the field.
    await ent.click('#objection-submit');
    assert((await ent.textContent('#objection-form [data-field="reason"] .error')).length > 0, 'an empty reason is refused next to its field');
    assert((await ent.getAttribute('#objection-reason', 'aria-invalid')) === 'true', 'the reason is marked invalid');
    assert(await ent.evaluate(() => document.activeElement?.id === 'objection-reason'), 'the focus goes to the reason');
    await ent.fill('#objection-reason', '长'.repeat(2001));
    await ent.waitForFunction(() => document.querySelector('#objection-form [data-field="reason"] .error').textContent.includes('2000'));
    await ent.fill('#objection-reason', REASON);
    await ent.waitForFunction(() => document.querySelector('#objection-form [data-field="reason"] .error').textContent === '');
    // Attachments: only their names, digests and types leave the page.
    const secret = 'FILE-CONTENT-STAYS-IN-THE-BROWSER';
    const a1 = path.join(downloads, '银行流水说明.pdf');
    const a2 = path.join(downloads, 'call-notes.txt');
    fs.writeFileSync(a1, `%PDF-1.4\n${secret}\n%%EOF\n`);
    fs.writeFileSync(a2, `${secret} notes\n`);
    await ent.setInputFiles('#objection-files', [a1, a2]);
    await ent.waitForFunction(() => document.querySelectorAll('#attachment-list li').length === 2);
    objectionDigests = [a1, a2].map((f) => createHash('sha256').update(fs.readFileSync(f)).digest('hex'));
    const shown = await ent.$$eval('#attachment-list li', (els) => els.map((e) => e.dataset.sha256));
    assert(JSON.stringify(shown) === JSON.stringify(objectionDigests), `SHA-256 computed in the page: ${shown} vs ${objectionDigests}`);
    const preview = JSON.parse(await ent.textContent('#objection-preview'));
    assert(
      preview.action === 'object' && preview.aud === nodeInfo.did && preview.enterprise === USCC
        && JSON.stringify(preview.target) === JSON.stringify({ type: 'access', logIndex: releaseIndex }) && preview.reason === REASON
        && preview.attachments.length === 2 && preview.attachments[0].sha256 === objectionDigests[0] && preview.attachments[0].mediaType === 'application/pdf'
        && preview.attachments[0].name === '银行流水说明.pdf',
      `the preview is the filing: ${JSON.stringify(preview)}`,
    );
    await shot(ent, 'objection-form');
    await ent.setViewportSize({ width: 360, height: 740 });
    await noHorizontalScroll(ent, 'objection form at 360 px');
    await ent.setViewportSize({ width: 1280, height: 900 });
    // A cancelled signature sends nothing and loses nothing.
    const posted = [];
    const onRequest = (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/portal/api/objections')) posted.push(r.postData());
    };
    ent.on('request', onRequest);
    await confirmWith(ent, () => ent.click('#objection-submit'), false);
    assert(posted.length === 0 && (await ent.inputValue('#objection-reason')) === REASON, 'cancelled: nothing sent, nothing lost');
    await ent.click('#objection-submit');
    const dlg = ent.locator('dialog[open]');
    await dlg.waitFor();
    const signedText = await dlg.locator('pre.signed-payload').textContent();
    await dlg.locator('button[data-confirm]').click();
    await ent.waitForSelector('#objection-done');
    ent.off('request', onRequest);
    objectionId = (await ent.textContent('#objection-id')).trim();
    assert(/^obj-[0-9a-f-]{36}$/.test(objectionId), `an objection id: ${objectionId}`);
    assert(posted.length === 1, `one filing sent: ${posted.length}`);
    const token = posted[0];
    const { header, payload } = pc.decodeJws(token);
    assert(header.typ === 'consentry-request+jwt' && header.alg === 'EdDSA', `the filing's header: ${JSON.stringify(header)}`);
    assert(Buffer.from(token.split('.')[1], 'base64url').toString('utf8') === signedText, 'the bytes signed are the bytes shown in the confirmation');
    assert(payload.reason === REASON && payload.attachments.every((a) => Object.keys(a).every((k) => ['name', 'sha256', 'mediaType'].includes(k))), 'names, digests and types only');
    assert(!JSON.stringify(payload).includes(secret) && token.length < 4096, 'the files themselves are never sent');
    const key = pc.publicKeyOfDid(header.kid.split('#')[0]);
    const [h64, p64, s64] = token.split('.');
    assert(await pc.verifyEd25519(key, pc.fromBase64url(s64), pc.utf8(`${h64}.${p64}`)), 'the filing verifies with the enterprise key (Node.js WebCrypto)');
    emit({ event: 'objection', id: objectionId, logIndex: releaseIndex, attachments: objectionDigests, signer: header.kid.split('#')[0] });
    await shot(ent, 'objection-filed');
  });

  await step('the enterprise sees its objection forwarded, with its forwarding deadline (CST) kept', async () => {
    await ent.click('#objection-list-link');
    await waitRoute(ent, '#/objections');
    const card = ent.locator(`li.objection[data-objection="${objectionId}"]`);
    await card.waitFor();
    assert((await card.getAttribute('data-state')) === 'forwarded', `forwarded: ${await card.getAttribute('data-state')}`);
    const api = await ent.evaluate(async (id) => (await fetch(`/portal/api/objections/${encodeURIComponent(id)}`)).json(), objectionId);
    const dl = card.locator('.deadline');
    assert((await dl.getAttribute('data-status')) === 'kept', `deadline kept: ${await dl.getAttribute('data-status')}`);
    if (api.deadline.date) {
      // Two working days after the filing's CST date, shown in CST.
      assert((await dl.getAttribute('data-date')) === api.deadline.date && (await dl.textContent()).includes(`${api.deadline.date} 23:59:59 北京时间`), `the deadline shown: ${await dl.textContent()}`);
    } else {
      emit({ event: 'note', message: `deadline unknown (calendar): ${JSON.stringify(api.deadline)}` });
    }
    const steps = await card.locator('[data-step]').evaluateAll((els) => els.map((e) => e.dataset.step));
    assert(steps.join() === 'received,forwarded', `steps: ${steps}`);
    const stepsText = await card.locator('table.objection-steps').textContent();
    assert(stepsText.includes('节点') && stepsText.includes(nodeInfo.did), 'each step names its actor and signing key');
    assert((await card.locator('.attachments li').count()) === 2, 'the attachments, by digest');
    await shot(ent, 'objections-enterprise');
    await ent.setViewportSize({ width: 360, height: 740 });
    await noHorizontalScroll(ent, 'objections at 360 px');
    await ent.setViewportSize({ width: 1280, height: 900 });
    // The two steps are entries of the enterprise's history, verified in the page, with no "object" action.
    await open(ent, '#/history');
    await waitMarks(ent, '#history');
    await ent.selectOption('#history-kind', 'objection');
    await ent.click('#history-filter button[type="submit"]');
    const marks = await waitMarks(ent, '#history');
    assert(marks.length === 2 && marks.every((m) => m.kind === 'objection' && m.verified === 'true'), `objection steps in the history, verified: ${JSON.stringify(marks)}`);
    assert((await ent.locator('#history a[data-object]').count()) === 0, 'an objection step is not itself objected to');
  });

  let evaluation;
  await step('the platform evaluates the enterprise under the grant: a signed CreditEvaluation', async () => {
    const r = await evaluate({ enterprise: USCC, grant: grant1 });
    assert(r.status === 200, `evaluation: ${r.status} ${JSON.stringify(r.body)}`);
    evaluation = r.body.data.evaluation;
    assert(evaluation.type.includes('CreditEvaluation'), 'a CreditEvaluation credential');
    assert((await pc.verifyProof(evaluation)) === nodeInfo.did, 'signed by the node (verified in Node.js)');
    emit({ event: 'evaluation', id: evaluation.id, grade: evaluation.credentialSubject.grade });
  });

  const anon = await openBrowser('public');
  await step('苏信码: the public page shows nothing before the enterprise authorizes', async () => {
    const seen = await publicPage(anon, USCC);
    assert(seen.display === 'not-authorized' && seen.grade === null, `not authorized: ${JSON.stringify(seen)}`);
    await shot(anon, 'sxm-public-not-authorized');
    await open(ent, '#/sxm');
    await ent.waitForSelector('#sxm-state[data-state="not-authorized"]');
    await shot(ent, 'sxm-enterprise-before');
  });

  await step('苏信码: the enterprise authorizes the display, signed in the browser', async () => {
    await confirmWith(ent, () => ent.click('#sxm-authorize'));
    await ent.waitForSelector('#sxm-state[data-state="shown"]');
    const qr = await saveDownload(ent, () => ent.click('#sxm-download'), 'sxm.svg');
    assert(fs.readFileSync(qr, 'utf8').includes('<svg'), 'the QR code downloads as SVG');
    await shot(ent, 'sxm-enterprise-authorized');
  });

  await step('苏信码: the public page verifies the credential in the browser and shows the grade and the QR', async () => {
    const seen = await publicPage(anon, USCC);
    assert(seen.display === 'shown', `shown: ${JSON.stringify(seen)}`);
    assert(seen.grade === evaluation.credentialSubject.grade, `the grade of the credential: ${seen.grade}`);
    assert(seen.checks.length === 3 && seen.checks.every((t) => t.startsWith('✓')), `signature, validity and status verified: ${JSON.stringify(seen.checks)}`);
    assert(seen.qr > 0, 'the QR code image loaded');
    await shot(anon, 'sxm-public-shown');
  });

  await step('苏信码: revoking hides it on reload', async () => {
    await open(ent, '#/sxm');
    await confirmWith(ent, () => ent.click('#sxm-revoke'));
    await ent.waitForSelector('#sxm-state[data-state="display-revoked"]');
    await shot(ent, 'sxm-enterprise-revoked');
    const seen = await publicPage(anon, USCC);
    assert(seen.display === 'display-revoked' && seen.grade === null, `hidden: ${JSON.stringify(seen)}`);
    await shot(anon, 'sxm-public-revoked');
  });

  await step('苏信码: an unknown enterprise\'s page says so', async () => {
    const seen = await publicPage(anon, '91330200MA2CDEF57N');
    assert(seen.display === 'unknown-enterprise' && seen.grade === null, `unknown: ${JSON.stringify(seen)}`);
    await shot(anon, 'sxm-public-unknown');
  });

  await step('the enterprise revokes, with a confirmation', async () => {
    await open(ent, '#/grants');
    const card = ent.locator(`li.grant[data-grant="${grant1}"]`);
    await confirmWith(ent, () => card.locator('button[data-action="revoke"]').click(), false);
    assert((await card.getAttribute('data-state')) === 'active', 'cancelled: still active');
    await confirmWith(ent, () => card.locator('button[data-action="revoke"]').click());
    await ent.waitForSelector(`li.grant[data-grant="${grant1}"][data-state="revoked"]`);
    await shot(ent, 'grant-revoked');
  });

  await step('the next release is refused', async () => {
    const r = await release({ enterprise: USCC, grant: grant1, categories: ['TAX-03'], granularity: 'derived', purpose: 'credit-approval', onBehalfOf: bank.uscc });
    assert(r.status === 403 && r.body.reasons.some((x) => x.code === 'grant-revoked'), `refused: ${r.status} ${JSON.stringify(r.body)}`);
    emit({ event: 'refused', status: r.status });
    await open(ent, '#/history');
    const marks = await waitMarks(ent, '#history');
    assert(marks.some((m) => m.kind === 'refusal' && m.verified === 'true'), 'the refusal is in the history, verified');
    await shot(ent, 'history-refusal');
  });

  // A second grant, keyboard only, at 360×740.
  await step('keyboard only at 360×740: open the wizard', async () => {
    await ent.setViewportSize({ width: 360, height: 740 });
    await open(ent, '#/grants');
    await noHorizontalScroll(ent, 'grants');
    await tabTo(ent, 'a[href="#/wizard/new"]');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('form.wizard[data-step="0"]');
    await tabTo(ent, `input[name="platform"][value="${platform.uscc}"]`);
    await ent.keyboard.press('Space');
    await ent.waitForFunction((u) => document.querySelector(`input[name="platform"][value="${u}"]`)?.checked, platform.uscc);
    await tabTo(ent, `input[data-bank="${bank.uscc}"]`);
    await ent.keyboard.press('Space');
    await noHorizontalScroll(ent, 'wizard step 1');
    await shot(ent, 'keyboard-360-step1');
    await tabTo(ent, '#wizard-next');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('form.wizard[data-step="1"]');
  });

  await step('keyboard: categories and the bank\'s granularity', async () => {
    await tabTo(ent, 'input[data-cat="TAX-03"]');
    await ent.keyboard.press('Space');
    await tabTo(ent, `select[data-bank-cat="${bank.uscc}:TAX-03"]`);
    await ent.keyboard.press('ArrowDown');
    let v = await ent.$eval(`select[data-bank-cat="${bank.uscc}:TAX-03"]`, (s) => s.value);
    assert(v === 'derived', `keyboard selects derived for the bank: ${v}`);
    await ent.keyboard.press('ArrowDown');
    v = await ent.$eval(`select[data-bank-cat="${bank.uscc}:TAX-03"]`, (s) => s.value);
    assert(v === 'derived', `raw stays out of reach for a non-public category: ${v}`);
    await noHorizontalScroll(ent, 'wizard step 2');
    await shot(ent, 'keyboard-360-step2');
    await tabTo(ent, '#wizard-next');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('form.wizard[data-step="2"]');
  });

  await step('keyboard: purpose and one-off usage', async () => {
    await tabTo(ent, 'input[data-purpose="pre-loan-due-diligence"]');
    await ent.keyboard.press('Space');
    await tabTo(ent, 'input[name="usage"]:checked');
    await ent.keyboard.press('ArrowUp');
    assert(await ent.$eval('input[name="usage"][value="one-off"]', (r) => r.checked), 'one-off chosen with the arrow key');
    await noHorizontalScroll(ent, 'wizard step 3');
    await shot(ent, 'keyboard-360-step3');
    await tabTo(ent, '#wizard-next');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('form.wizard[data-step="3"][data-letters-loaded]');
  });

  await step('keyboard: accept the letter', async () => {
    await tabTo(ent, 'input[data-accept="STA/1"]');
    await ent.keyboard.press('Space');
    await noHorizontalScroll(ent, 'wizard step 4');
    await shot(ent, 'keyboard-360-step4');
    await tabTo(ent, '#wizard-next');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('#canonical-doc');
  });

  await step('keyboard: no trap, then sign with Enter', async () => {
    await noHorizontalScroll(ent, 'wizard preview');
    await shot(ent, 'keyboard-360-preview');
    await tabTo(ent, '#skip', { max: 200 });
    await tabTo(ent, '#sign-btn');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('dialog[open]');
    const focused = await ent.evaluate(() => document.activeElement?.dataset.confirm === '1');
    assert(focused, 'the dialog takes the focus');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('#grant-done', { timeout: 30000 });
    grant2 = (await ent.textContent('#grant-id')).trim();
    emit({ event: 'grant', id: grant2, keyboard: true });
    await shot(ent, 'keyboard-360-done');
  });

  await step('keyboard: suspend, resume and download the second grant', async () => {
    await open(ent, '#/grants');
    const sel = (a) => `li.grant[data-grant="${grant2}"] button[data-action="${a}"]`;
    await tabTo(ent, sel('suspend'));
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('dialog[open]');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector(`li.grant[data-grant="${grant2}"][data-state="suspended"]`);
    await ent.waitForFunction(() => document.activeElement?.tagName === 'H1');
    await shot(ent, 'keyboard-360-suspended');
    await tabTo(ent, sel('resume'));
    await ent.keyboard.press('Enter');
    await ent.waitForSelector('dialog[open]');
    await ent.keyboard.press('Enter');
    await ent.waitForSelector(`li.grant[data-grant="${grant2}"][data-state="active"]`);
    await ent.waitForFunction(() => document.activeElement?.tagName === 'H1');
    await tabTo(ent, sel('download'));
    const f = await saveDownload(ent, () => ent.keyboard.press('Enter'), 'grant-2.json');
    files.push(f);
    emit({ event: 'credential', id: grant2, file: f });
    await noHorizontalScroll(ent, 'grants');
  });

  await step('a lost key is recovered: new key and accept-key request in the browser, the operator binds it', async () => {
    await ent.setViewportSize({ width: 1280, height: 900 });
    await open(ent, '#/keys');
    const form = ent.locator('#recovery');
    await form.locator('[data-field="ruscc"] input').fill(USCC);
    await form.locator('[data-field="rpass"] input').fill(PASS);
    const f = await saveDownload(ent, () => form.locator('button[type="submit"]').click(), 'enterprise-recovered.backup.json');
    assert(JSON.parse(fs.readFileSync(f, 'utf8')).kdf.iterations >= 600000, 'the new key has its backup');
    const token = (await form.locator('textarea').inputValue()).trim();
    const { header, payload } = pc.decodeJws(token);
    assert(header.typ === 'consentry-request+jwt' && payload.action === 'accept-key' && payload.aud === nodeInfo.did && payload.uscc === USCC, `the request: ${JSON.stringify(payload)}`);
    const newDid = header.kid.split('#')[0];
    await shot(ent, 'keys-recovery');
    const r = await admin(`/v1/admin/participants/enterprise/${USCC}/recover-key`, token);
    assert(r.status === 200 && r.body.did === newDid, `recover-key: ${r.status} ${JSON.stringify(r.body)}`);
    await ent.click('#signout');
    await waitRoute(ent, '#/signin');
    const oldDid = (await ent.evaluate(async () => (await (await import('/portal/crypto.js')).listKeys()).map((k) => k.did))).find((d) => d !== newDid);
    await ent.check(`#stored-keys input[value="${oldDid}"]`);
    await ent.click('#signin-btn');
    await ent.waitForFunction(() => /replaced/.test(document.querySelector('#stored-keys .status')?.textContent || ''));
    await ent.check(`#stored-keys input[value="${newDid}"]`);
    await ent.click('#signin-btn');
    await waitRoute(ent, '#/grants');
    // The list renders after its fetch: wait for it (bounded) instead of reading it half-drawn.
    await ent.waitForFunction(() => document.querySelectorAll('li.grant').length >= 2, null, { timeout: 15000 }).catch(() => {});
    const states = await ent.$$eval('li.grant', (els) => els.map((e) => e.dataset.state).sort());
    assert(states.join() === 'active,revoked', `the grants survive the key change: ${states}`);
    emit({ event: 'recovered', did: newDid });
  });

  const rg = await openBrowser('regulator');
  await step('a regulator signs in with its key file', async () => {
    await open(rg, '#/signin');
    await rg.setInputFiles('#import-key input[type="file"]', REG_KEY);
    await rg.click('#import-key-btn');
    await rg.waitForSelector('#import-key .status.ok');
    await rg.click('#signin-btn');
    await waitRoute(rg, '#/explorer');
  });

  await step('the regulator finds the whole chain in the explorer', async () => {
    await rg.fill('#f-enterprise', 'ABC');
    await rg.fill('#f-enterprise', `${USCC.slice(0, 17)}${USCC[17] === 'A' ? 'B' : 'A'}`);
    await rg.click('#explorer-search');
    assert((await rg.textContent('[data-field="enterprise"] .error')).length > 0, 'an invalid USCC filter is refused next to the field');
    await rg.fill('#f-enterprise', '');
    await rg.fill('#f-grant', grant1);
    await rg.click('#explorer-search');
    const marks = await waitMarks(rg, '#explorer-results');
    const kinds = marks.map((m) => m.kind);
    for (const k of ['grant-submitted', 'release', 'grant-revoked', 'refusal']) assert(kinds.includes(k), `the chain has ${k}: ${kinds}`);
    assert(marks.every((m) => m.verified === 'true'), 'every link verified');
    await shot(rg, 'regulator-explorer-grant');
    await rg.fill('#f-grant', '');
    await rg.fill('#f-enterprise', USCC);
    await rg.selectOption('#f-kind', 'release');
    await rg.click('#explorer-search');
    const rel = await waitMarks(rg, '#explorer-results');
    assert(rel.length === 3 && rel.every((m) => m.kind === 'release'), `filter by enterprise and kind (two data releases and the evaluation): ${JSON.stringify(rel)}`);
    await rg.selectOption('#f-kind', '');
    await rg.fill('#f-enterprise', '');
    await rg.fill('#f-bank', bank.uscc);
    await rg.selectOption('#f-category', 'TAX-03');
    await rg.click('#explorer-search');
    const viaBank = await waitMarks(rg, '#explorer-results');
    assert(viaBank.some((m) => m.kind === 'release'), 'filter by bank and category');
    emit({ event: 'chain', grant: grant1, kinds });
  });

  await step('entry detail with its proof and mark', async () => {
    await open(rg, `#/entry/${releaseIndex}`);
    await rg.waitForSelector('#entry-mark [data-verified="true"]', { timeout: 30000 });
    assert((await rg.textContent('#receipt')).startsWith('c2sp.org/tlog-proof@v1'), 'the receipt is shown');
    await shot(rg, 'regulator-entry');
  });

  await step('checkpoint history with consistency verified in the page', async () => {
    await open(rg, '#/checkpoints');
    await rg.waitForSelector('#checkpoints[data-done]', { timeout: 60000 });
    assert((await rg.getAttribute('#checkpoints', 'data-done')) === 'ok', 'signatures and consistency verified');
    const n = await rg.$$eval('table.checkpoints tbody tr', (r) => r.length);
    assert(n >= 2, `several checkpoints: ${n}`);
    await shot(rg, 'regulator-checkpoints');
  });

  await step('statistics with their charts', async () => {
    await open(rg, '#/stats');
    const charts = await rg.evaluate(async () => Promise.all(['#chart-per-day', '#chart-per-platform', '#chart-loans-by-region'].map(async (s) => {
      const img = document.querySelector(s);
      try {
        await img.decode();
      } catch {
        return false;
      }
      const r = await fetch(img.src);
      const text = await r.text();
      // The financing chart has bars only once banks reported loans; it is a drawn chart all the same.
      const drawn = s === '#chart-loans-by-region' ? text.includes('首贷 first loans') : text.includes('<rect class="releases"');
      return r.ok && r.headers.get('content-type').startsWith('image/svg+xml') && drawn;
    })));
    assert(charts.every(Boolean), `every chart loads: ${charts}`);
    const tables = await rg.$$eval('table.stats', (t) => t.length);
    assert(tables >= 5, 'statistics tables, financing by city among them');
    await shot(rg, 'regulator-stats');
  });

  await step('the regulator sees the objection in its list, and filters it', async () => {
    await open(rg, '#/objections');
    await rg.waitForSelector('#objections-box[data-done="1"]');
    const card = rg.locator(`li.objection[data-objection="${objectionId}"]`);
    await card.waitFor();
    assert((await card.getAttribute('data-state')) === 'forwarded' && (await card.getAttribute('data-overdue')) === '0', 'forwarded, not overdue');
    assert((await card.textContent()).includes(USCC), 'the enterprise is named');
    await rg.check('#f-overdue');
    await rg.click('#objections-search');
    await rg.waitForSelector('#objections-box[data-done="1"]');
    assert((await rg.locator(`li.objection[data-objection="${objectionId}"]`).count()) === 0, 'not among the overdue');
    await rg.uncheck('#f-overdue');
    await rg.fill('#f-obj-enterprise', `${USCC.slice(0, 17)}${USCC[17] === 'A' ? 'B' : 'A'}`);
    await rg.click('#objections-search');
    assert((await rg.textContent('#objections-filter [data-field="enterprise"] .error')).length > 0, 'an invalid USCC filter is refused next to the field');
    await rg.fill('#f-obj-enterprise', USCC);
    await rg.selectOption('#f-state', 'forwarded');
    await rg.click('#objections-search');
    await rg.waitForSelector('#objections-box[data-done="1"]');
    await card.waitFor();
    assert(await rg.evaluate(() => location.hash.includes('state%3Dforwarded')), 'the filters are kept in the address');
    await shot(rg, 'regulator-objections');
    // How an overdue objection is flagged. A filing made at the node is always forwarded in time, so
    // the answer is rewritten in the browser to one the sweep would flag.
    const listUrl = (u) => u.pathname === '/portal/api/objections';
    await rg.route(listUrl, async (route) => {
      const resp = await route.fetch();
      const body = await resp.json();
      for (const o of body.objections) {
        if (o.id !== objectionId) continue;
        Object.assign(o, { state: 'received', forwardedAt: null, overdue: true, deadline: { ...o.deadline, status: 'missed' } });
      }
      await route.fulfill({ response: resp, json: body });
    });
    await rg.selectOption('#f-state', '');
    await rg.click('#objections-search');
    await rg.waitForSelector('#objections-box[data-done="1"]');
    const late = rg.locator(`li.objection.overdue[data-objection="${objectionId}"]`);
    await late.waitFor();
    assert(await late.locator('.overdue-flag').isVisible(), 'the overdue flag is visible');
    assert((await late.locator('.overdue-flag').textContent()).includes('逾期') && (await late.locator('.deadline').getAttribute('data-status')) === 'missed', 'flagged as overdue, deadline missed');
    assert((await rg.textContent('#objections-filter + p.status')).includes('1 件逾期'), 'the count of overdue ones is said');
    await shot(rg, 'regulator-objections-overdue-flag');
    await rg.unroute(listUrl);
    await card.locator(`a[href="#/objection/${objectionId}"]`).click();
    await waitRoute(rg, '#/objection/');
    await rg.waitForSelector('table.objection-steps');
    assert((await rg.locator('#review-form').count()) === 0, 'a regulator reads; it does not review');
  });

  await step('the operator reviews and resolves the objection in the browser with the node key', async () => {
    await open(op, '#/objections');
    await op.waitForSelector('#objections-box[data-done="1"]');
    await op.locator(`li.objection[data-objection="${objectionId}"] a[href^="#/objection/"]`).click();
    await op.waitForSelector('#review-form');
    assert((await op.textContent('details.cli pre')).includes(`consentry admin objection resolve ${objectionId}`), 'the command-line equivalent is shown');
    await confirmWith(op, () => op.click('#review-btn'));
    await op.waitForSelector(`li.objection[data-objection="${objectionId}"][data-state="under-review"]`);
    await op.waitForSelector('#resolve-form');
    await op.click('#resolve-btn');
    assert((await op.textContent('#resolve-form [data-field="outcome"] .error')).length > 0, 'an outcome is required, said next to it');
    assert((await op.textContent('#resolve-form [data-field="explanation"] .error')).length > 0, 'an explanation is required, said next to it');
    await op.check('#outcome-rejected');
    await op.fill('#resolve-explanation', '经核实,该银行依据有效授权获取数据。 The bank received the data under a valid grant.');
    await confirmWith(op, () => op.click('#resolve-btn'));
    await op.waitForSelector(`li.objection[data-objection="${objectionId}"][data-state="rejected"]`);
    await shot(op, 'operator-objection-resolved');
  });

  await step('the enterprise sees the outcome and every signed step', async () => {
    await open(ent, '#/objections');
    const card = ent.locator(`li.objection[data-objection="${objectionId}"][data-state="rejected"]`);
    await card.waitFor();
    const steps = await card.locator('[data-step]').evaluateAll((els) => els.map((e) => e.dataset.step));
    assert(steps.join() === 'received,forwarded,under-review,rejected', `steps: ${steps}`);
    assert((await card.locator('.outcome .explanation').textContent()).includes('有效授权'), 'the explanation is shown');
    await shot(ent, 'objections-outcome');
  });

  await step('sign-out ends the session', async () => {
    await rg.click('#signout');
    await waitRoute(rg, '#/signin');
    const status = await rg.evaluate(async () => (await fetch('/portal/api/me')).status);
    assert(status === 401, `after sign-out /portal/api/me is ${status}`);
  });

  await step('nothing left this origin, no CSP violation, no script error', async () => {
    assert(problems.external.length === 0, `external requests: ${problems.external}`);
    assert(problems.csp.length === 0, `CSP violations: ${problems.csp}`);
    assert(problems.pageErrors.length === 0, `script errors: ${problems.pageErrors}`);
  });

  emit({ event: 'done', ok: true, grants: [grant1, grant2], files, screenshots: shotNo });
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
