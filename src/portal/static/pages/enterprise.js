// The enterprise's pages: its grants (status, revoke / suspend / resume by a request signed in this
// browser, download), who accessed its data (each entry verified here), its own data, notices. Each
// history entry and data record offers "object" (pages/objections.js). Pending consent requests
// from platforms and banks are listed above the grants: "review and sign" opens the wizard
// pre-filled from the request (pages/wizard.js), "decline" answers it with an optional reason.

import { T, fmtTime } from '../i18n.js';
import { h, clear, confirmDialog, download, statusLine, say, errorBox, badge, table } from '../ui.js';
import { ApiError, get, post, nodeInfo, session, catalog } from '../api.js';
import * as c from '../crypto.js';
import { entryItem, verifyAll } from './entries.js';
import { requesterName } from './wizard.js';

const STATES = {
  active: ['有效', 'active', 'ok'],
  suspended: ['已暂停', 'suspended', 'warn'],
  revoked: ['已撤销', 'revoked', 'bad'],
};

function stateBadge(s) {
  const x = STATES[s] || [s, s, ''];
  return badge(T(x[0], x[1]), `state ${x[2]}`);
}

const ACTIONS = {
  revoke: {
    label: ['撤销', 'Revoke'],
    title: ['撤销此授权?', 'Revoke this grant?'],
    body: ['撤销是最终的:此后任何数据请求都会被拒绝,且无法恢复。', 'Revocation is final: every later request for data is refused, and it cannot be undone.'],
    danger: true,
  },
  suspend: {
    label: ['暂停', 'Suspend'],
    title: ['暂停此授权?', 'Suspend this grant?'],
    body: ['暂停期间的数据请求都会被拒绝;之后可以恢复。', 'Requests are refused while it is suspended; you can resume it later.'],
    danger: false,
  },
  resume: {
    label: ['恢复', 'Resume'],
    title: ['恢复此授权?', 'Resume this grant?'],
    body: ['恢复后,平台可再次按授权条款获取数据。', 'Once resumed, the platform may again receive data under its terms.'],
    danger: false,
  },
};

function actionsFor(state) {
  return { active: ['suspend', 'revoke'], suspended: ['resume', 'revoke'] }[state] || [];
}

/** Asks, signs the request with the key in this browser, sends it. Returns the new state or null. */
async function change(id, action, statusEl) {
  const a = ACTIONS[action];
  const ok = await confirmDialog({ title: T(...a.title), body: [T(...a.body), h('p', { class: 'mono' }, id)], confirm: T(...a.label), danger: a.danger });
  if (!ok) {
    say(statusEl, T('已取消。', 'Cancelled.'));
    return null;
  }
  const key = await c.getKey(session.me.participant.did);
  if (!key) {
    say(statusEl, T('本浏览器中没有您登录所用的密钥。', 'The key you signed in with is not in this browser.'), 'bad');
    return null;
  }
  const send = async () => {
    say(statusEl, T('正在签名并提交…', 'Signing and sending…'));
    try {
      const node = await nodeInfo();
      const token = await c.signedRequest(key, node.did, action, { grant: id });
      const r = await post(`/portal/api/grants/${encodeURIComponent(id)}/${action}`, { body: token });
      say(statusEl, T(`已${a.label[0]}:状态为 ${r.state}(日志序号 ${r.logIndex})。`, `Done: the grant is ${r.state} (log index ${r.logIndex}).`), 'ok');
      return r.state;
    } catch (e) {
      clear(statusEl, errorBox(e instanceof ApiError ? e.describe() : e.message, () => send()));
      return null;
    }
  };
  return send();
}

async function downloadGrant(id) {
  const g = await get(`/portal/api/grants/${encodeURIComponent(id)}`);
  download(`grant-${id.replace(/^urn:uuid:/, '')}.json`, g.credential);
}

const GRAN = { raw: ['原始明细', 'raw records'], derived: ['加工结果', 'derived results'] };
const PER = { day: ['日', 'day'], week: ['周', 'week'], month: ['月', 'month'] };

/** What a request asks for, in the current language (`cat`: the catalog, for the purposes' names). */
function requestTerms(r, cat) {
  const t = r.terms;
  const purpose = (code) => {
    const p = cat.purposes.find((x) => x.code === code);
    return p ? T(p.nameZh, p.nameEn) : code;
  };
  const cats = (list) => list.map((x) => `${x.code} ${T(...GRAN[x.granularity])}`).join(T('、', ', '));
  const usage = t.usage.mode === 'one-off'
    ? T('一次', 'once')
    : T(`每${PER[t.usage.per][0]}最多 ${t.usage.maxReleases} 次`, `at most ${t.usage.maxReleases} per ${PER[t.usage.per][1]}`);
  return h('dl', { class: 'facts' },
    h('dt', {}, T('接收平台', 'Platform')), h('dd', {}, `${t.grantee.name} (${t.grantee.uscc}): ${cats(t.categories)}`),
    (t.onwardRecipients || []).map((b) => [h('dt', {}, T('银行', 'Bank')), h('dd', {}, `${b.name} (${b.uscc}): ${cats(b.categories)}`)]),
    h('dt', {}, T('用途', 'Purposes')), h('dd', {}, t.purposes.map(purpose).join(T('、', ', '))),
    h('dt', {}, T('数据期间', 'Records dated')), h('dd', {}, `${t.dataPeriod.from} – ${t.dataPeriod.until}`),
    h('dt', {}, T('有效期', 'Valid')), h('dd', {}, `${fmtTime(r.validFrom)} – ${fmtTime(r.validUntil)}`),
    h('dt', {}, T('次数', 'How often')), h('dd', {}, usage),
    h('dt', {}, T('请求截止', 'Answer by')), h('dd', {}, fmtTime(r.expiresAt)));
}

/** Declines a request, with the reason typed in the dialog. Returns whether it was declined. */
async function declineRequest(r, statusEl) {
  const reason = h('textarea', { id: 'decline-reason', rows: '3', maxlength: '500', 'aria-label': T('拒绝理由(可选)', 'Reason (optional)') });
  const ok = await confirmDialog({
    title: T('拒绝此授权请求?', 'Decline this consent request?'),
    body: [T(`${requesterName(r)} 将收到拒绝通知。`, `${requesterName(r)} will be told you declined.`), h('label', { for: 'decline-reason' }, T('理由(可选)', 'Reason (optional)')), reason],
    confirm: T('拒绝', 'Decline'),
    danger: true,
  });
  if (!ok) {
    say(statusEl, T('已取消。', 'Cancelled.'));
    return false;
  }
  try {
    await post(`/portal/api/consent-requests/${encodeURIComponent(r.id)}/decline`, { json: reason.value.trim() ? { reason: reason.value.trim() } : {} });
    say(statusEl, T('已拒绝该请求。', 'The request is declined.'), 'ok');
    return true;
  } catch (e) {
    clear(statusEl, errorBox(e instanceof ApiError ? e.describe() : e.message));
    return false;
  }
}

/** The pending consent requests addressed to the enterprise: who asks, what, why. */
async function requestsSection(root, app, statusEl) {
  const list = (await get('/portal/api/consent-requests?state=pending&limit=200')).consentRequests;
  if (!list.length) return;
  const cat = await catalog();
  root.append(
    h('section', { class: 'requests', id: 'consent-requests', 'aria-labelledby': 'requests-title' },
      h('h2', { id: 'requests-title' }, T(`待处理的授权请求(${list.length})`, `Consent requests waiting for you (${list.length})`)),
      h('ul', { class: 'plain' }, list.map((r) => h('li', { class: 'card request', 'data-request': r.id },
        h('p', {}, h('strong', {}, requesterName(r)), ' ', h('span', { class: 'mono muted' }, r.requester.uscc), ' ',
          badge(r.requester.role === 'bank' ? T('银行', 'bank') : T('平台', 'platform'), ''), ' ', T('请求您授权', 'asks you for a grant')),
        r.message ? h('p', { class: 'request-message' }, `${T('理由', 'Why')}: ${r.message}`) : null,
        requestTerms(r, cat),
        h('div', { class: 'actions' },
          h('a', { class: 'button primary', href: `#/wizard/request/${encodeURIComponent(r.id)}`, 'data-review': r.id }, T('审阅并签署', 'Review and sign')),
          h('button', { type: 'button', class: 'danger', 'data-decline': r.id, onclick: async () => { if (await declineRequest(r, statusEl)) app.render(); } }, T('拒绝', 'Decline'))))))),
  );
}

export async function grantsPage(root, _p, app) {
  root.append(h('h1', {}, T('我的授权', 'My grants')));
  const st = statusLine();
  await requestsSection(root, app, st);
  const list = (await get('/portal/api/grants?limit=200')).grants;
  root.append(h('p', {}, h('a', { class: 'button primary', href: '#/wizard/new' }, T('签署新授权', 'Sign a new grant'))), st);
  if (!list.length) {
    root.append(h('p', { class: 'empty' }, T('还没有授权。', 'No grant yet.')));
    return;
  }
  root.append(
    h(
      'ul',
      { class: 'plain grants' },
      list
        .slice()
        .reverse()
        .map((g) =>
          h(
            'li',
            { class: 'card grant', 'data-grant': g.id, 'data-state': g.state },
            h('p', {}, h('a', { href: `#/grant/${encodeURIComponent(g.id)}`, class: 'mono' }, g.id), ' ', stateBadge(g.state)),
            h('p', { class: 'muted' }, `${T('接收方', 'Grantee')} ${g.grantee} · ${fmtTime(g.validFrom)} – ${fmtTime(g.validUntil)} · ${T('提交于', 'submitted')} ${fmtTime(g.submittedAt)}`),
            h(
              'div',
              { class: 'actions' },
              h('button', { type: 'button', class: 'secondary', 'data-action': 'download', onclick: () => downloadGrant(g.id).catch((e) => say(st, e.message, 'bad')) }, T('下载凭证', 'Download credential')),
              actionsFor(g.state).map((a) =>
                h('button', {
                  type: 'button',
                  class: ACTIONS[a].danger ? 'danger' : 'secondary',
                  'data-action': a,
                  onclick: async () => {
                    if (await change(g.id, a, st)) app.render();
                  },
                }, T(...ACTIONS[a].label)),
              ),
            ),
          ),
        ),
    ),
  );
}

export async function grantPage(root, params, app) {
  const id = params[0];
  const g = await get(`/portal/api/grants/${encodeURIComponent(id)}`);
  const st = statusLine();
  let cred = null;
  try {
    cred = JSON.parse(g.credential);
  } catch {
    /* a VC-JWT: shown as text */
  }
  root.append(
    h('h1', {}, T('授权详情', 'Grant')),
    h('p', { class: 'mono' }, g.id, ' ', stateBadge(g.state)),
    h('dl', { class: 'facts' },
      h('dt', {}, T('接收方', 'Grantee')), h('dd', {}, g.grantee),
      h('dt', {}, T('有效期', 'Valid')), h('dd', {}, `${fmtTime(g.validFrom)} – ${fmtTime(g.validUntil)}`),
      h('dt', {}, T('签名密钥', 'Signed by')), h('dd', { class: 'mono' }, g.signer),
      h('dt', {}, 'SHA-256'), h('dd', { class: 'mono' }, g.sha256),
      h('dt', {}, T('日志序号', 'Log index')), h('dd', {}, String(g.logIndex))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'download-grant', onclick: () => download(`grant-${g.id.replace(/^urn:uuid:/, '')}.json`, g.credential) }, T('下载已签名凭证', 'Download the signed credential')),
      actionsFor(g.state).map((a) =>
        h('button', {
          type: 'button',
          class: ACTIONS[a].danger ? 'danger' : 'secondary',
          'data-action': a,
          onclick: async () => {
            if (await change(g.id, a, st)) app.render();
          },
        }, T(...ACTIONS[a].label))),
      h('a', { class: 'button secondary', href: `#/history/${encodeURIComponent(g.id)}` }, T('此授权的数据使用记录', 'Data use under this grant'))),
    st,
  );
  if (g.events.length) {
    root.append(h('h2', {}, T('状态变更', 'Status changes')), table([T('操作', 'Action'), T('时间', 'When'), T('操作者', 'By'), T('日志序号', 'Log index')], g.events.map((e) => [e.action, fmtTime(e.at), e.actor, String(e.logIndex)])));
  }
  root.append(h('h2', {}, T('已签名凭证', 'The signed credential')), h('pre', { class: 'canonical', tabindex: '0' }, cred ? JSON.stringify(cred, null, 2) : g.credential));
}

/** Adds the "object" action to an entry of the enterprise's history (not to objection steps). */
function withObjection(item, e) {
  if (e.kind !== 'objection') {
    item.append(
      h('p', { class: 'entry-actions' },
        h('a', {
          class: 'button secondary',
          href: `#/object/access/${e.index}`,
          'data-object': String(e.index),
          'aria-label': T(`对记录 #${e.index} 提出异议`, `Object to entry #${e.index}`),
        }, T('提出异议', 'Object'))),
    );
  }
  return item;
}

export async function historyPage(root, params) {
  const grant = params[0] || '';
  root.append(h('h1', {}, T('谁使用了我的数据', 'Who accessed my data')));
  if (grant) root.append(h('p', { class: 'mono' }, `${T('授权', 'Grant')} ${grant}`));
  root.append(
    h('p', { class: 'lead' }, T(
      '每一条记录都在本页面中独立验证:节点签名的检查点、包含证明,以及记录与盐值的承诺。',
      'Each entry is verified in this page on its own: the node-signed checkpoint, the inclusion proof, and the commitment to the record and its salt.',
    )),
  );
  const form = h('form', { class: 'filters', id: 'history-filter' });
  const kind = h('select', { id: 'history-kind', name: 'kind' },
    h('option', { value: '' }, T('全部', 'All')),
    h('option', { value: 'release' }, T('数据放行', 'Releases')),
    h('option', { value: 'refusal' }, T('请求被拒', 'Refusals')),
    h('option', { value: 'grant-submitted' }, T('授权提交', 'Grants submitted')),
    h('option', { value: 'grant-revoked' }, T('授权撤销', 'Grants revoked')),
    h('option', { value: 'objection' }, T('异议处理', 'Objections')));
  form.append(h('label', { for: 'history-kind' }, T('类型', 'Kind')), kind, h('button', { type: 'submit', class: 'secondary' }, T('筛选', 'Filter')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    draw();
  });
  const box = h('div', { id: 'history' });
  const st = statusLine();
  root.append(form, st, box);
  const draw = async () => {
    const q = new URLSearchParams({ limit: '500' });
    if (kind.value) q.set('kind', kind.value);
    if (grant) q.set('grant', grant);
    delete box.dataset.done;
    say(st, T('正在读取…', 'Loading…'));
    // Every page (the list is no longer cut at the first 500): follow `next` as `after`.
    const all = [];
    try {
      for (;;) {
        const data = await get(`/portal/api/history?${q}`);
        all.push(...data.entries);
        if (data.next === null || data.next === undefined) break;
        q.set('after', String(data.next));
      }
    } catch (e) {
      clear(st, errorBox(e instanceof ApiError ? e.describe() : e.message, draw));
      return;
    }
    const entries = all.reverse();
    say(st, T(`共 ${entries.length} 条,正在验证…`, `${entries.length} entries; verifying…`));
    const items = new Map(entries.map((e) => [e.index, withObjection(entryItem(e), e)]));
    clear(box, entries.length ? h('ol', { class: 'entries', reversed: true }, [...items.values()]) : h('p', { class: 'empty' }, T('暂无记录。', 'Nothing yet.')));
    let bad = 0;
    await verifyAll(entries, (e, r) => {
      if (!r.ok) bad += 1;
      items.get(e.index).show(r);
    });
    say(st, bad ? T(`${entries.length} 条中 ${bad} 条验证失败。`, `${bad} of ${entries.length} entries failed verification.`) : T(`全部 ${entries.length} 条均已验证。`, `All ${entries.length} entries verified.`), bad ? 'bad' : 'ok');
    box.dataset.done = '1';
  };
  await draw();
}

export async function dataPage(root) {
  const d = await get('/portal/api/data');
  root.append(
    h('h1', {}, T('我的数据', 'My data')),
    h('p', { class: 'lead' }, T('查询本企业自己的数据免费,且不需要授权。', 'Querying your own data is free and needs no grant.')),
  );
  if (!d.records.length) {
    root.append(h('p', { class: 'empty' }, T('节点没有本企业的数据。', 'The node holds no data about you.')));
    return;
  }
  root.append(
    h('p', {}, T('发现数据有误?点击该条记录的「提出异议」。', 'Is something wrong? Use “Object” on that record.'), ' ', h('a', { href: '#/objections' }, T('我的异议申诉', 'My objections'))),
    table(
      [T('类别', 'Category'), T('日期', 'Date'), T('提供部门', 'Provider'), T('内容', 'Fields'), T('操作', 'Action')],
      d.records.map((r) => [
        r.category,
        r.date,
        r.provider,
        h('div', {},
          h('code', { class: 'small' }, JSON.stringify(r.fields)),
          (r.corrections || []).map((k) => h('p', { class: 'small corrected-note', 'data-corrected-by': k.objection },
            badge(T('已更正', 'Corrected'), 'ok'), ' ',
            T(`${k.at.slice(0, 10)} 依异议 `, `on ${k.at.slice(0, 10)} after objection `),
            h('a', { href: `#/objection/${encodeURIComponent(k.objection)}`, class: 'mono' }, k.objection)))),
        h('a', {
          class: 'button secondary',
          href: `#/object/data/${r.id}`,
          'data-object': String(r.id),
          'aria-label': T(`对数据记录 #${r.id}(${r.category} ${r.date})提出异议`, `Object to record #${r.id} (${r.category} ${r.date})`),
        }, T('提出异议', 'Object')),
      ]),
      { caption: T(`共 ${d.records.length} 条记录`, `${d.records.length} records`), cls: 'records' },
    ),
  );
}

export async function noticesPage(root) {
  const d = await get('/portal/api/notices');
  root.append(h('h1', {}, T('通知', 'Notices')));
  if (!d.notices.length) {
    root.append(h('p', { class: 'empty' }, T('没有通知。', 'No notices.')));
    return;
  }
  root.append(h('ul', { class: 'plain' }, d.notices.map((n) => h('li', { class: 'card' }, h('p', { class: 'muted' }, `${fmtTime(n.at)} · ${n.kind}`), h('p', {}, n.body?.message || JSON.stringify(n.body))))));
}

const SHOWN = {
  shown: ['公示中', 'Shown', 'ok'],
  'not-authorized': ['未授权公示', 'Not authorized', ''],
  'display-revoked': ['已撤销公示', 'Display revoked', 'warn'],
  'no-evaluation': ['已授权,暂无评价', 'Authorized, no evaluation yet', 'warn'],
  'evaluation-withdrawn': ['评价已撤回', 'Evaluation withdrawn', 'warn'],
  'evaluation-expired': ['评价已过期', 'Evaluation expired', 'warn'],
};

/** Signs a display-authorize / display-revoke request with the key in this browser and sends it. */
async function changeDisplay(action, statusEl) {
  const authorize = action === 'authorize';
  const ok = await confirmDialog({
    title: authorize ? T('授权公示信用评价?', 'Authorize the public display?') : T('撤销公示授权?', 'Revoke the public display?'),
    body: [authorize
      ? T('授权后,任何人都可以通过本企业的苏信码页面看到最新的信用评价(等级、评分和关键指标)。您可以随时撤销。', 'Anyone can then see your latest credit evaluation (grade, score, key indicators) on your 苏信码 page. You can revoke at any time.')
      : T('撤销后,苏信码页面不再展示任何评价内容。', 'The 苏信码 page will no longer show anything of the evaluation.')],
    confirm: authorize ? T('签名并授权', 'Sign and authorize') : T('签名并撤销', 'Sign and revoke'),
    danger: !authorize,
  });
  if (!ok) return say(statusEl, T('已取消。', 'Cancelled.'));
  const key = await c.getKey(session.me.participant.did);
  if (!key) return say(statusEl, T('本浏览器中没有您登录所用的密钥。', 'The key you signed in with is not in this browser.'), 'bad');
  try {
    say(statusEl, T('正在签名并提交…', 'Signing and sending…'));
    const node = await nodeInfo();
    const claims = authorize ? { enterprise: session.me.participant.uscc, display: 'credit-evaluation' } : { enterprise: session.me.participant.uscc };
    const token = await c.signedRequest(key, node.did, `display-${action}`, claims);
    const r = await post(`/portal/api/display/${action}`, { body: token });
    say(statusEl, T(`已完成(日志序号 ${r.logIndex})。`, `Done (log index ${r.logIndex}).`), 'ok');
    return true;
  } catch (e) {
    clear(statusEl, errorBox(e instanceof ApiError ? e.describe() : e.message));
    return false;
  }
}

export async function sxmPage(root, _p, app) {
  const d = await get('/portal/api/display');
  const s = SHOWN[d.display] || [d.display, d.display, ''];
  const statusEl = statusLine();
  const authorized = ['shown', 'no-evaluation', 'evaluation-withdrawn', 'evaluation-expired'].includes(d.display);
  const qr = `/sxm/${encodeURIComponent(d.enterprise.uscc)}/qr.svg`;
  root.append(
    h('h1', {}, T('苏信码与信用评价公示', '苏信码: public credit evaluation')),
    h('p', { class: 'lead' }, T('只有在您授权时,苏信码页面才会公开展示您授权时最新的那份信用评价;之后的新评价需要再次授权。您可以随时撤销。', 'Your 苏信码 page shows the credit evaluation that was current when you authorized it, and only while you do; a newer one needs a new authorization. You can revoke at any time.')),
    h('p', {}, T('当前状态:', 'Now: '), h('span', { id: 'sxm-state', 'data-state': d.display }, badge(T(s[0], s[1]), `state ${s[2]}`)), ' ', T(d.messageZh, d.messageEn)),
    h('p', {}, T('公示页面:', 'Public page: '), h('a', { href: d.page, id: 'sxm-link', target: '_blank', rel: 'noopener' }, d.page)),
    h('p', {}, h('img', { src: qr, alt: T('苏信码', 'QR code'), width: '200', height: '200', id: 'sxm-qr-own' })),
    h('p', { class: 'actions' },
      h('a', { class: 'button secondary', href: qr, download: `sxm-${d.enterprise.uscc}.svg`, id: 'sxm-download' }, T('下载苏信码', 'Download the QR code')),
      // Consent covers the evaluation current when it is given: authorizing again shows a newer one.
      d.display !== 'shown'
        ? h('button', { id: 'sxm-authorize', onclick: async () => { if (await changeDisplay('authorize', statusEl)) app.render(); } }, authorized ? T('授权公示最新评价', 'Authorize showing the latest evaluation') : T('授权公示', 'Authorize display'))
        : null,
      authorized
        ? h('button', { class: 'danger', id: 'sxm-revoke', onclick: async () => { if (await changeDisplay('revoke', statusEl)) app.render(); } }, T('撤销公示', 'Revoke display'))
        : null),
    statusEl,
  );
}
