// The portal: a single page with hash routes. Who is signed in decides the menu: enterprises sign
// and manage grants, see who received their data and object to it; regulators explore the access
// log, its statistics and the objections; the node operator approves registrations, admits
// platforms and reviews objections; a platform's operator manages its banks, its consent requests
// and sees its grants, releases and statistics; a bank its consent requests, the receipts of the
// releases made for it (verified here), its loan reports and statistics. The regulator also follows
// a release across two hops, from a platform's log to the node's (pages/chain.js).

import { T, both, lang, setLang } from './i18n.js';
import { h, clear, errorBox } from './ui.js';
import { ApiError, get, post, nodeInfo, session, setCsrf } from './api.js';
import * as signin from './pages/signin.js';
import * as wizard from './pages/wizard.js';
import * as ent from './pages/enterprise.js';
import * as reg from './pages/regulator.js';
import * as op from './pages/operator.js';
import * as obj from './pages/objections.js';
import * as party from './pages/parties.js';
import * as chain from './pages/chain.js';

const ROLE_NAMES = {
  enterprise: ['企业', 'Enterprise'],
  regulator: ['监管机构', 'Regulator'],
  node: ['节点运营方', 'Node operator'],
  platform: ['平台', 'Platform'],
  bank: ['银行', 'Bank'],
};

const routes = {
  signin: { page: signin.signInPage, open: true },
  keys: { page: signin.keysPage, open: true },
  register: { page: signin.registerPage, open: true },
  pending: { page: signin.pendingPage },
  wizard: { page: wizard.wizardPage, roles: ['enterprise'] },
  grants: { page: ent.grantsPage, roles: ['enterprise'] },
  grant: { page: ent.grantPage, roles: ['enterprise'] },
  history: { page: ent.historyPage, roles: ['enterprise'] },
  data: { page: ent.dataPage, roles: ['enterprise'] },
  sxm: { page: ent.sxmPage, roles: ['enterprise'] },
  notices: { page: ent.noticesPage },
  object: { page: obj.objectPage, roles: ['enterprise'] },
  objections: { page: obj.objectionsPage, roles: ['enterprise', 'regulator', 'node'] },
  objection: { page: obj.objectionPage, roles: ['enterprise', 'regulator', 'node'] },
  explorer: { page: reg.explorerPage, roles: ['regulator', 'node'] },
  entry: { page: reg.entryPage, roles: ['regulator', 'node'] },
  chain: { page: chain.chainPage, roles: ['regulator'] },
  checkpoints: { page: reg.checkpointsPage, roles: ['regulator', 'node'] },
  stats: { page: reg.statsPage, roles: ['regulator', 'node'] },
  registrations: { page: op.registrationsPage, roles: ['node'] },
  platforms: { page: op.platformsPage, roles: ['node', 'regulator'] },
  banks: { page: party.banksPage, roles: ['platform'] },
  requests: { page: party.requestsPage, roles: ['platform', 'bank'] },
  'named-grants': { page: party.namedGrantsPage, roles: ['platform', 'bank'] },
  releases: { page: party.releasesPage, roles: ['platform', 'bank'] },
  loans: { page: party.loansPage, roles: ['platform', 'bank'] },
  summary: { page: party.summaryPage, roles: ['platform', 'bank'] },
};

function menu(role) {
  const items = {
    enterprise: [
      ['wizard', '签署授权', 'New grant'],
      ['grants', '我的授权', 'My grants'],
      ['history', '数据使用记录', 'Who accessed my data'],
      ['data', '我的数据', 'My data'],
      ['sxm', '苏信码', 'Credit code'],
      ['objections', '异议申诉', 'Objections'],
      ['notices', '通知', 'Notices'],
      ['keys', '密钥', 'Keys'],
    ],
    regulator: [
      ['explorer', '访问链查询', 'Access chains'],
      ['chain', '跨平台访问链', 'Across platforms'],
      ['objections', '异议申诉', 'Objections'],
      ['checkpoints', '检查点', 'Checkpoints'],
      ['stats', '统计', 'Statistics'],
      ['platforms', '平台', 'Platforms'],
      ['keys', '密钥', 'Keys'],
    ],
    node: [
      ['registrations', '注册审核', 'Registrations'],
      ['platforms', '平台管理', 'Platforms'],
      ['objections', '异议申诉', 'Objections'],
      ['explorer', '访问链查询', 'Access chains'],
      ['checkpoints', '检查点', 'Checkpoints'],
      ['stats', '统计', 'Statistics'],
      ['keys', '密钥', 'Keys'],
    ],
    platform: [
      ['banks', '我的银行', 'My banks'],
      ['requests', '授权请求', 'Consent requests'],
      ['named-grants', '授权', 'Grants'],
      ['releases', '放行记录', 'Releases'],
      ['loans', '融资结果', 'Loans'],
      ['summary', '统计', 'Statistics'],
      ['notices', '通知', 'Notices'],
      ['keys', '密钥', 'Keys'],
    ],
    bank: [
      ['requests', '授权请求', 'Consent requests'],
      ['named-grants', '授权', 'Grants'],
      ['releases', '放行收据', 'Receipts'],
      ['loans', '融资结果', 'Loans'],
      ['summary', '统计', 'Statistics'],
      ['notices', '通知', 'Notices'],
      ['keys', '密钥', 'Keys'],
    ],
  }[role];
  return items || [
    ['signin', '登录', 'Sign in'],
    ['register', '企业注册', 'Register'],
    ['keys', '密钥', 'Keys'],
  ];
}

export function home() {
  const me = session.me?.participant;
  if (!me) return '#/signin';
  if (me.state !== 'active') return '#/pending';
  return { enterprise: '#/grants', regulator: '#/explorer', node: '#/registrations', platform: '#/banks', bank: '#/requests' }[me.role] || '#/notices';
}

/** Reads the session (after sign-in, reload, or sign-out). */
export async function refreshSession() {
  try {
    const me = await get('/portal/api/me');
    session.me = me;
    setCsrf(me.csrf);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    session.me = null;
    setCsrf(null);
  }
  renderHeader();
}

async function signOut() {
  try {
    await post('/portal/api/logout');
  } catch (e) {
    if (e.status !== 401) {
      alertTop(e.describe());
      return;
    }
  }
  session.me = null;
  setCsrf(null);
  sessionStorage.removeItem('consentry.wizard.v1');
  renderHeader();
  location.hash = '#/signin';
}

function alertTop(msg) {
  const main = document.getElementById('main');
  main.prepend(errorBox(msg));
}

function renderHeader() {
  const me = session.me?.participant;
  const route = (location.hash.replace(/^#\/?/, '').split('/')[0]) || '';
  const nav = document.getElementById('nav');
  clear(
    nav,
    h(
      'ul',
      {},
      menu(me && me.state === 'active' ? me.role : null).map(([r, zh, en]) =>
        h('li', {}, h('a', { href: `#/${r}`, 'aria-current': route === r ? 'page' : null }, T(zh, en))),
      ),
    ),
  );
  const who = document.getElementById('who');
  clear(
    who,
    me
      ? [
          h('span', { class: 'who-name' }, `${me.name} · ${T(...(ROLE_NAMES[me.role] || [me.role, me.role]))}`),
          h('button', { type: 'button', class: 'link', id: 'signout', onclick: signOut }, T('退出', 'Sign out')),
        ]
      : null,
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        id: 'lang',
        lang: lang() === 'zh' ? 'en' : 'zh-CN',
        'aria-label': lang() === 'zh' ? 'Switch to English' : '切换到中文',
        onclick: () => {
          setLang(lang() === 'zh' ? 'en' : 'zh');
          renderHeader();
          render();
        },
      },
      lang() === 'zh' ? 'English' : '中文',
    ),
  );
  document.getElementById('brand-sub').textContent = T('企业授权与数据使用门户', 'Consent and data-use portal');
  document.getElementById('skip').textContent = T('跳到正文', 'Skip to content');
}

async function renderFooter() {
  const f = document.getElementById('foot');
  try {
    const n = await nodeInfo();
    let note = null;
    try {
      const pinned = localStorage.getItem('consentry.nodeDid');
      if (!pinned) localStorage.setItem('consentry.nodeDid', n.did);
      else if (pinned !== n.did) {
        note = h('p', { class: 'alert', role: 'alert' }, T(`警告:节点密钥与此浏览器此前见到的不同(${pinned})。`, `Warning: the node key differs from the one this browser saw before (${pinned}).`));
      }
    } catch {
      /* no storage */
    }
    clear(f, note, h('p', {}, T('节点', 'Node'), ': ', h('code', { class: 'did' }, n.did)), h('p', {}, T('日志', 'Log'), ': ', h('code', {}, n.logOrigin)));
  } catch {
    clear(f);
  }
}

let renderSeq = 0;

export async function render() {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  let name = parts[0] || '';
  if (!name) {
    location.replace(home());
    return;
  }
  const r = routes[name];
  renderHeader();
  if (!r) {
    clear(main, h('h1', { tabindex: '-1' }, T('页面不存在', 'No such page')), h('p', {}, h('a', { href: home() }, T('返回首页', 'Home'))));
    main.querySelector('h1').focus();
    return;
  }
  const me = session.me?.participant;
  if (!r.open && !me) {
    sessionStorage.setItem('consentry.after', location.hash);
    location.replace('#/signin');
    return;
  }
  if (r.roles && (!me || !r.roles.includes(me.role) || me.state !== 'active')) {
    location.replace(home());
    return;
  }
  const page = h('div', { class: 'page', 'data-page': name });
  clear(main, page);
  try {
    await r.page(page, parts.slice(1), { refreshSession, home, render });
  } catch (e) {
    if (seq !== renderSeq) return;
    if (e instanceof ApiError && e.status === 401) {
      await refreshSession();
      location.replace('#/signin');
      return;
    }
    page.append(errorBox(e instanceof ApiError ? e.describe() : String(e.message || e), () => render()));
  }
  if (seq !== renderSeq) return;
  // Rendered (data loaded, or the error shown): what tests and assistive tools may wait for.
  page.setAttribute('data-ready', '');
  const h1 = main.querySelector('h1');
  if (h1 && !main.contains(document.activeElement)) {
    h1.setAttribute('tabindex', '-1');
    h1.focus({ preventScroll: false });
  }
}

async function boot() {
  document.getElementById('skip').addEventListener('click', (e) => {
    e.preventDefault();
    document.getElementById('main').focus();
  });
  document.title = both('Consentry 企业授权门户', 'portal');
  try {
    await refreshSession();
  } catch {
    session.me = null;
  }
  renderFooter();
  window.addEventListener('hashchange', () => render());
  await render();
  document.body.dataset.ready = '1';
}

boot();
