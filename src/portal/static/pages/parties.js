// The pages of a financing platform's operator and of a bank. A platform: its banks (suspend, resume,
// remove, as POST /v1/banks/{uscc}/state lets it), the consent requests it made (create, withdraw),
// the grants naming it, its releases in the node's log (each verified here) and its statistics. A
// bank: its consent requests (create for an enterprise, withdraw, see signed or declined), the
// receipts of the releases made on its behalf with their inclusion proofs verified in this page, the
// loans it reported, its statistics. Every call goes to /portal/api, which calls the node's own
// operations: what a platform or bank may see or do here is what /v1 lets it.

import { T, fmtTime } from '../i18n.js';
import { h, clear, field, setFieldError, clearFieldErrors, focusFirstError, confirmDialog, statusLine, say, errorBox, badge, table, download } from '../ui.js';
import { ApiError, get, post, session, catalog } from '../api.js';
import { usccProblem } from '../uscc.js';
import { entryItem, verifyAll } from './entries.js';

// Every item of a paged list: follows `next` as `after` to the end (lists are never cut at one
// page); stops if a cursor repeats, so a server that ignored `after` cannot loop it.
async function every(path, member) {
  const sep = path.includes('?') ? '&' : '?';
  const all = [];
  const seen = new Set();
  let after = null;
  for (;;) {
    const data = await get(after === null ? path : `${path}${sep}after=${encodeURIComponent(after)}`);
    all.push(...(data[member] || []));
    if (data.next === null || data.next === undefined || seen.has(String(data.next))) break;
    seen.add(String(data.next));
    after = data.next;
  }
  return all;
}

const REQUEST_STATES = {
  pending: ['待处理', 'pending', 'warn'],
  signed: ['已签署', 'signed', 'ok'],
  declined: ['已拒绝', 'declined', 'bad'],
  withdrawn: ['已撤回', 'withdrawn', ''],
  expired: ['已过期', 'expired', ''],
};
const PARTICIPANT_STATES = {
  active: ['正常', 'active', 'ok'],
  suspended: ['已暂停', 'suspended', 'warn'],
  removed: ['已移除', 'removed', 'bad'],
};
const GRANT_STATES = {
  active: ['有效', 'active', 'ok'],
  suspended: ['已暂停', 'suspended', 'warn'],
  revoked: ['已撤销', 'revoked', 'bad'],
};

function stateBadge(table, s) {
  const x = table[s] || [s, s, ''];
  return badge(T(x[0], x[1]), `state ${x[2]}`);
}

const failed = (e) => (e instanceof ApiError ? e.describe() : String(e.message || e));

// ------------------------------------------------------------------ banks (a platform)

const BANK_ACTIONS = {
  suspended: { label: ['暂停', 'Suspend'], title: ['暂停该银行?', 'Suspend this bank?'], body: ['暂停期间,不再为该银行放行数据,其门户会话随即结束。', 'While suspended, nothing is released for the bank and its portal sessions end.'], danger: false },
  active: { label: ['恢复', 'Resume'], title: ['恢复该银行?', 'Resume this bank?'], body: ['由节点运营方暂停的银行只能由节点运营方恢复。', 'A bank the node operator suspended is resumed by the operator only.'], danger: false },
  removed: { label: ['移除', 'Remove'], title: ['移除该银行?', 'Remove this bank?'], body: ['移除是最终的:指名该银行的授权将被暂停。', 'Removal is final: the grants naming the bank are suspended.'], danger: true },
};

function bankActions(state) {
  return { active: ['suspended', 'removed'], suspended: ['active', 'removed'] }[state] || [];
}

export async function banksPage(root, _p, app) {
  root.append(h('h1', {}, T('我的银行', 'My banks')));
  const st = statusLine();
  const banks = (await get('/portal/api/banks')).participants;
  root.append(
    h('p', { class: 'lead' }, T('银行由平台通过 POST /v1/banks 登记(命令行或平台进程);此处可暂停、恢复或移除。', 'Banks are registered by the platform with POST /v1/banks (the command line or the platform process); here they are suspended, resumed or removed.')),
    st,
  );
  if (!banks.length) {
    root.append(h('p', { class: 'empty', id: 'no-banks' }, T('尚未登记银行。', 'No bank registered yet.')));
    return;
  }
  const setState = async (b, state) => {
    const a = BANK_ACTIONS[state];
    const ok = await confirmDialog({ title: T(...a.title), body: [T(...a.body), h('p', { class: 'mono' }, `${b.name} ${b.uscc}`)], confirm: T(...a.label), danger: a.danger });
    if (!ok) return say(st, T('已取消。', 'Cancelled.'));
    try {
      const r = await post(`/portal/api/banks/${encodeURIComponent(b.uscc)}/state`, { json: { state } });
      say(st, T(`${b.uscc} 现为 ${r.state}。`, `${b.uscc} is now ${r.state}.`), 'ok');
      app.render();
    } catch (e) {
      clear(st, errorBox(failed(e)));
    }
  };
  root.append(
    h('ul', { class: 'plain banks' }, banks.map((b) =>
      h('li', { class: 'card bank', 'data-uscc': b.uscc, 'data-state': b.state },
        h('h2', {}, `${b.name} `, h('span', { class: 'mono muted' }, b.uscc), ' ', stateBadge(PARTICIPANT_STATES, b.state)),
        h('p', { class: 'muted' }, `${T('登记于', 'Registered')} ${fmtTime(b.createdAt)}`),
        h('div', { class: 'actions' }, bankActions(b.state).map((s) =>
          h('button', { type: 'button', class: BANK_ACTIONS[s].danger ? 'danger' : 'secondary', 'data-set-state': s, onclick: () => setState(b, s) }, T(...BANK_ACTIONS[s].label))))))),
  );
}

// ------------------------------------------------------------------ consent requests (a platform or a bank)

const GRAN = { raw: ['原始明细', 'raw records'], derived: ['加工结果', 'derived results'] };

function isoOf(local) {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? '' : `${d.toISOString().slice(0, 19)}Z`;
}

function localOf(ms) {
  const d = new Date(Math.floor(ms / 60000) * 60000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The platform a bank asks through: its own, from the directory of admitted platforms. */
async function myPlatform() {
  const me = session.me.participant;
  if (me.role === 'platform') return { uscc: me.uscc, name: me.name, banks: [] };
  const dir = (await get('/portal/api/directory')).platforms;
  return dir.find((p) => p.uscc === me.platform) || { uscc: me.platform || '', name: me.platform || '', banks: [] };
}

/** The form that asks an enterprise for a grant: the requested terms, a window, a message. */
async function requestForm(st, app) {
  const me = session.me.participant;
  const cat = await catalog();
  const platform = await myPlatform();
  const banks = me.role === 'platform' ? (await get('/portal/api/banks')).participants.filter((b) => b.state === 'active') : [];
  const form = h('form', { class: 'card request-form', id: 'request-form', novalidate: true });
  const ent = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: '18', class: 'mono' });
  const entName = h('input', { type: 'text', maxlength: '200' });
  const catRows = cat.categories.map((x) => {
    const box = h('input', { type: 'checkbox', 'data-cat': x.code });
    const gran = h('select', { 'data-gran': x.code, 'aria-label': `${x.code} ${T('粒度', 'granularity')}` },
      h('option', { value: 'derived' }, T(...GRAN.derived)),
      x.public ? h('option', { value: 'raw' }, T(...GRAN.raw)) : null);
    return { code: x.code, box, gran, row: h('li', {}, h('label', {}, box, ` ${x.code} ${T(x.nameZh, x.nameEn)}`), ' ', gran) };
  });
  const purposes = cat.purposes.map((p) => ({ code: p.code, box: h('input', { type: 'checkbox', 'data-purpose': p.code }), name: T(p.nameZh, p.nameEn) }));
  const from = h('input', { type: 'date', value: `${new Date().getFullYear() - 2}-01-01` });
  const until = h('input', { type: 'date', value: new Date(Date.now() - 86400000).toISOString().slice(0, 10) });
  const mode = h('select', {}, h('option', { value: 'periodic' }, T('周期性', 'periodic')), h('option', { value: 'one-off' }, T('一次', 'one-off')));
  const maxReleases = h('input', { type: 'number', min: '1', max: '1000', value: '4' });
  const per = h('select', {}, h('option', { value: 'month' }, T('每月', 'per month')), h('option', { value: 'week' }, T('每周', 'per week')), h('option', { value: 'day' }, T('每日', 'per day')));
  const validFrom = h('input', { type: 'datetime-local', value: localOf(Date.now() - 3600000) });
  const validUntil = h('input', { type: 'datetime-local', value: localOf(Date.now() + 180 * 86400000) });
  const bankSel = me.role === 'platform'
    ? h('select', {}, h('option', { value: '' }, T('(无:仅平台本身)', '(none: the platform only)')), banks.map((b) => h('option', { value: b.uscc }, `${b.name} ${b.uscc}`)))
    : null;
  const message = h('textarea', { rows: '3', maxlength: '2000' });
  form.append(...[
    h('h2', {}, T('请求企业授权', 'Ask an enterprise for a grant')),
    h('p', { class: 'muted' }, me.role === 'bank'
      ? T(`经平台 ${platform.name}(${platform.uscc})向本行提供。非公开数据只提供加工结果。`, `Through the platform ${platform.name} (${platform.uscc}) to this bank. Non-public data: derived results only.`)
      : T('接收方为本平台;可同时指名一家本平台的银行。', 'The grantee is this platform; one of its banks may be named as well.')),
    field({ id: 'req-enterprise', name: 'enterprise', label: T('企业统一社会信用代码', 'Enterprise (Unified Social Credit Code)'), control: ent }),
    field({ id: 'req-enterprise-name', name: 'enterpriseName', label: T('企业名称', 'Enterprise name'), control: entName }),
    bankSel ? field({ id: 'req-bank', name: 'bank', label: T('银行(可选)', 'Bank (optional)'), control: bankSel }) : null,
    h('fieldset', { class: 'field', 'data-field': 'categories' }, h('legend', {}, T('数据类别', 'Data categories')), h('ul', { class: 'plain cats' }, catRows.map((r) => r.row)), h('p', { class: 'error', 'aria-live': 'polite' })),
    h('fieldset', { class: 'field', 'data-field': 'purposes' }, h('legend', {}, T('用途', 'Purposes')), h('ul', { class: 'plain' }, purposes.map((p) => h('li', {}, h('label', {}, p.box, ` ${p.name}`)))), h('p', { class: 'error', 'aria-live': 'polite' })),
    field({ id: 'req-from', name: 'dataFrom', label: T('数据期间起', 'Records dated from'), control: from }),
    field({ id: 'req-until', name: 'dataUntil', label: T('数据期间止', 'Records dated until'), control: until }),
    field({ id: 'req-mode', name: 'mode', label: T('次数', 'How often'), control: mode }),
    field({ id: 'req-max', name: 'maxReleases', label: T('每期最多次数', 'At most, per period'), control: maxReleases }),
    field({ id: 'req-per', name: 'per', label: T('期间', 'Period'), control: per }),
    field({ id: 'req-valid-from', name: 'validFrom', label: T('有效期起', 'Valid from'), control: validFrom }),
    field({ id: 'req-valid-until', name: 'validUntil', label: T('有效期止', 'Valid until'), control: validUntil }),
    field({ id: 'req-message', name: 'message', label: T('给企业的说明(可选)', 'Message to the enterprise (optional)'), control: message }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'request-send' }, T('发送请求', 'Send the request'))),
  ].filter(Boolean));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const errs = {};
    const code = ent.value.trim().toUpperCase();
    const bad = usccProblem(code);
    if (bad) errs.enterprise = T(`统一社会信用代码无效(${bad.code})`, `Not a valid Unified Social Credit Code (${bad.code})`);
    if (!entName.value.trim()) errs.enterpriseName = T('请填写企业名称', 'Enter the enterprise\'s name');
    const cats = catRows.filter((r) => r.box.checked).map((r) => ({ code: r.code, granularity: r.gran.value }));
    if (!cats.length) errs.categories = T('至少选择一个类别', 'Choose at least one category');
    const ps = purposes.filter((p) => p.box.checked).map((p) => p.code);
    if (!ps.length) errs.purposes = T('至少选择一个用途', 'Choose at least one purpose');
    const n = Number(maxReleases.value);
    if (mode.value === 'periodic' && !(Number.isInteger(n) && n >= 1)) errs.maxReleases = T('请填写正整数', 'A whole number, 1 or more');
    if (!isoOf(validFrom.value)) errs.validFrom = T('请填写时间', 'Enter a time');
    if (!isoOf(validUntil.value)) errs.validUntil = T('请填写时间', 'Enter a time');
    if (Object.keys(errs).length) {
      for (const [k, m] of Object.entries(errs)) setFieldError(form, k, m);
      focusFirstError(form);
      return;
    }
    const bank = me.role === 'bank' ? { uscc: me.uscc, name: me.name } : banks.find((b) => b.uscc === bankSel.value);
    const terms = {
      enterprise: { uscc: code, name: entName.value.trim() },
      grantee: { uscc: platform.uscc, name: platform.name, role: 'platform' },
      categories: cats,
      purposes: ps,
      dataPeriod: { from: from.value, until: until.value },
      usage: mode.value === 'one-off' ? { mode: 'one-off' } : { mode: 'periodic', maxReleases: n, per: per.value },
      catalogVersion: cat.catalogVersion,
    };
    if (bank) terms.onwardRecipients = [{ uscc: bank.uscc, name: bank.name, role: 'bank', categories: cats.map((x) => ({ code: x.code, granularity: 'derived' })) }];
    const body = { terms, validFrom: isoOf(validFrom.value), validUntil: isoOf(validUntil.value) };
    if (message.value.trim()) body.message = message.value.trim();
    try {
      const r = await post('/portal/api/consent-requests', { json: body });
      say(st, T(`请求已发送(${r.id}),等待企业答复。`, `Request sent (${r.id}); waiting for the enterprise.`), 'ok');
      st.dataset.created = r.id;
      await app.render();
    } catch (e) {
      clear(st, errorBox(failed(e)));
      st.scrollIntoView({ block: 'center' });
    }
  });
  return form;
}

function requestCard(r, st, app) {
  const t = r.terms;
  const withdraw = async () => {
    const ok = await confirmDialog({ title: T('撤回此请求?', 'Withdraw this request?'), body: [T('企业将不能再签署此请求。', 'The enterprise can no longer answer it.'), h('p', { class: 'mono' }, r.id)], confirm: T('撤回', 'Withdraw'), danger: true });
    if (!ok) return say(st, T('已取消。', 'Cancelled.'));
    try {
      await post(`/portal/api/consent-requests/${encodeURIComponent(r.id)}/withdraw`);
      say(st, T('请求已撤回。', 'The request is withdrawn.'), 'ok');
      app.render();
    } catch (e) {
      clear(st, errorBox(failed(e)));
    }
  };
  return h('li', { class: 'card request', 'data-request': r.id, 'data-state': r.state },
    h('p', {}, h('strong', {}, t.enterprise.name), ' ', h('span', { class: 'mono muted' }, t.enterprise.uscc), ' ', stateBadge(REQUEST_STATES, r.state)),
    h('p', { class: 'muted' }, `${t.categories.map((x) => `${x.code} ${T(...GRAN[x.granularity])}`).join(T('、', ', '))} · ${T('发出', 'sent')} ${fmtTime(r.createdAt)} · ${T('截止', 'answer by')} ${fmtTime(r.expiresAt)}`),
    r.message ? h('p', { class: 'request-message' }, r.message) : null,
    r.grant ? h('p', {}, T('授权', 'Grant'), ': ', h('a', { class: 'mono', 'data-grant': r.grant, href: `#/named-grants/${encodeURIComponent(r.grant)}` }, r.grant)) : null,
    r.declineReason ? h('p', { class: 'decline-reason' }, `${T('拒绝理由', 'Reason given')}: ${r.declineReason}`) : null,
    r.state === 'pending' ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', 'data-withdraw': r.id, onclick: withdraw }, T('撤回', 'Withdraw'))) : null);
}

export async function requestsPage(root, _p, app) {
  root.append(h('h1', {}, T('授权请求', 'Consent requests')));
  const st = statusLine();
  const list = await every('/portal/api/consent-requests?limit=200', 'consentRequests');
  root.append(st);
  root.append(h('section', { 'aria-labelledby': 'my-requests' },
    h('h2', { id: 'my-requests' }, T(`已发出的请求(${list.length})`, `Requests sent (${list.length})`)),
    list.length
      ? h('ul', { class: 'plain requests' }, list.slice().reverse().map((r) => requestCard(r, st, app)))
      : h('p', { class: 'empty' }, T('还没有发出请求。', 'No request sent yet.'))));
  root.append(await requestForm(st, app));
}

// ------------------------------------------------------------------ grants naming the platform or bank

export async function namedGrantsPage(root, params) {
  root.append(h('h1', {}, T('指名本方的授权', 'Grants naming us')));
  if (params[0]) {
    const g = await get(`/portal/api/grants/${encodeURIComponent(params[0])}`);
    root.append(
      h('section', { class: 'card grant', 'data-grant': g.id, 'data-state': g.state },
        h('p', {}, h('span', { class: 'mono' }, g.id), ' ', stateBadge(GRANT_STATES, g.state)),
        h('p', { class: 'muted' }, `${T('企业', 'Enterprise')} ${g.enterprise} · ${fmtTime(g.validFrom)} – ${fmtTime(g.validUntil)}`),
        h('button', { type: 'button', class: 'secondary', onclick: () => download(`grant-${g.id.replace(/^urn:uuid:/, '')}.json`, g.credential) }, T('下载凭证', 'Download credential'))),
      h('p', {}, h('a', { href: '#/named-grants' }, T('全部授权', 'All grants'))),
    );
    return;
  }
  const list = await every('/portal/api/grants?limit=200', 'grants');
  if (!list.length) {
    root.append(h('p', { class: 'empty' }, T('还没有指名本方的授权。', 'No grant names us yet.')));
    return;
  }
  root.append(table(
    [T('授权', 'Grant'), T('企业', 'Enterprise'), T('状态', 'State'), T('有效期', 'Valid')],
    list.slice().reverse().map((g) => [h('a', { class: 'mono', 'data-grant': g.id, href: `#/named-grants/${encodeURIComponent(g.id)}` }, g.id), h('span', { class: 'mono' }, g.enterprise), stateBadge(GRANT_STATES, g.state), `${fmtTime(g.validFrom)} – ${fmtTime(g.validUntil)}`]),
    { caption: T('指名本方的授权', 'Grants naming us'), cls: 'named-grants' },
  ));
}

// ------------------------------------------------------------------ releases and their receipts

export async function releasesPage(root) {
  const bank = session.me.participant.role === 'bank';
  root.append(
    h('h1', {}, bank ? T('放行收据', 'Release receipts') : T('本平台的放行记录', 'Our releases')),
    h('p', { class: 'lead' }, T('节点日志中指名本方的放行。每条记录的收据与包含证明都在本浏览器中对照节点签名的检查点验证。', 'Releases in the node\'s log naming us. Each entry\'s receipt and inclusion proof are verified in this browser against a checkpoint the node signed.')),
  );
  const entries = await every('/portal/api/entries?kind=release&limit=200', 'entries');
  if (!entries.length) {
    root.append(h('p', { class: 'empty' }, T('还没有放行记录。', 'No release yet.')));
    return;
  }
  const items = new Map();
  root.append(h('ul', { class: 'plain entries' }, entries.slice().reverse().map((e) => {
    const it = entryItem(e);
    const slot = h('span', { class: 'receipt-slot' });
    it.append(slot);
    it.receiptSlot = slot;
    items.set(e.index, it);
    return it;
  })));
  await verifyAll(entries, (e, result) => {
    const it = items.get(e.index);
    it.show(result);
    if (result.receipt) {
      clear(it.receiptSlot, h('button', { type: 'button', class: 'link', 'data-receipt': String(e.index), onclick: () => download(`receipt-${e.index}.txt`, result.receipt, 'text/plain') }, T('下载收据', 'Download the receipt')));
    }
  });
}

// ------------------------------------------------------------------ loans (a bank; a platform: those reported through it)

export async function loansPage(root) {
  root.append(h('h1', {}, T('融资结果报告', 'Loan reports')));
  const list = await every('/portal/api/loans?limit=200', 'loans');
  if (!list.length) {
    root.append(h('p', { class: 'empty', id: 'no-loans' }, T('还没有报告的贷款。', 'No loan reported yet.')));
    return;
  }
  root.append(table(
    [T('贷款', 'Loan'), T('企业', 'Enterprise'), T('银行', 'Bank'), T('状态', 'State'), T('批准金额', 'Approved'), T('余额', 'Balance'), T('最近事件', 'Last event'), T('报告数', 'Reports')],
    list.map((l) => [h('span', { class: 'mono' }, l.loan), h('span', { class: 'mono' }, l.enterprise), h('span', { class: 'mono' }, l.bank), l.state, String(l.approvedAmount), String(l.balance), l.lastEventOn, String(l.reports.length)]),
    { caption: T('贷款', 'Loans'), cls: 'loans' },
  ));
}

// ------------------------------------------------------------------ statistics in the caller's scope

export async function summaryPage(root) {
  root.append(h('h1', {}, T('本方统计', 'Our statistics')));
  const s = await get('/portal/api/summary');
  const t = s.access.totals;
  root.append(
    h('p', { class: 'muted' }, `${s.period.from} – ${s.period.until} · ${T('范围', 'scope')} ${s.scope.kind} ${s.scope.uscc || ''}`),
    h('dl', { class: 'facts', id: 'summary-totals' },
      h('dt', {}, T('放行', 'Releases')), h('dd', { 'data-figure': 'releases' }, String(t.releases)),
      h('dt', {}, T('拒绝', 'Refusals')), h('dd', { 'data-figure': 'refusals' }, String(t.refusals)),
      h('dt', {}, T('转授放行', 'Onward releases')), h('dd', { 'data-figure': 'onwardReleases' }, String(t.onwardReleases))),
    s.access.byCategory.length
      ? table([T('类别', 'Category'), T('放行', 'Releases'), T('拒绝', 'Refusals')], s.access.byCategory.map((r) => [r.category || '', String(r.releases), String(r.refusals)]), { caption: T('按类别', 'By category') })
      : null,
    s.access.byDay.length
      ? table([T('日期', 'Date'), T('放行', 'Releases'), T('拒绝', 'Refusals')], s.access.byDay.map((r) => [r.date, String(r.releases), String(r.refusals)]), { caption: T('按日', 'By day') })
      : null,
  );
}
