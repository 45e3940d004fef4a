// Objections (异议申诉, spec/objections.md). An enterprise objects to an entry of its access history
// or to a data record: the reason, and attachments named only by name, SHA-256 (computed in this page)
// and media type — the files never leave the browser; the exact claims are shown before they are
// signed with the key in this browser; the node receives and forwards the filing at once. Its list
// shows each objection's state, forwarding deadline (CST), steps with their actors, and outcome.
// Regulators and the operator list every objection with filters, overdue ones flagged; the operator
// opens the review and resolves with the node key, signed in the browser (or at the command line).

import { T, fmtTime } from '../i18n.js';
import { h, clear, field, setFieldError, clearFieldErrors, focusFirstError, confirmDialog, download, statusLine, say, errorBox, badge, table } from '../ui.js';
import { ApiError, get, post, nodeInfo, session } from '../api.js';
import * as c from '../crypto.js';
import { usccProblem } from '../uscc.js';
import { describe, kindLabel } from './entries.js';

/** Longest reason or explanation, in characters (Unicode code points, as the node counts). */
export const MAX_TEXT = 2000;
/** Most attachments per filing. */
export const MAX_ATTACHMENTS = 20;
const MAX_NAME = 200;

export const STATES = {
  received: ['已受理', 'received', 'warn'],
  forwarded: ['已转至节点', 'forwarded to the node', ''],
  'under-review': ['核查中', 'under review', 'warn'],
  corrected: ['异议成立,已更正', 'upheld: corrected', 'ok'],
  rejected: ['异议不成立', 'not upheld', 'bad'],
};

const STEPS = {
  received: ['受理', 'Received'],
  forwarded: ['转至节点', 'Forwarded to the node'],
  'under-review': ['开始核查', 'Review opened'],
  corrected: ['更正(异议成立)', 'Corrected (upheld)'],
  rejected: ['驳回(异议不成立)', 'Rejected (not upheld)'],
};

const ROLES = {
  enterprise: ['企业', 'enterprise'],
  platform: ['平台', 'platform'],
  node: ['节点', 'node'],
  regulator: ['监管机构', 'regulator'],
};

const DEADLINE = {
  kept: ['按期转送', 'kept', 'ok'],
  pending: ['待转送', 'pending', 'warn'],
  missed: ['未按期转送', 'missed', 'bad'],
  unknown: ['期限未知', 'unknown', 'warn'],
};

const chars = (s) => [...s].length;

/** A CST instant from the node (`2025-09-29T23:59:59.999+08:00`) as `2025-09-29 23:59:59 CST`. */
export function cst(iso) {
  if (!iso) return '';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?\+08:00$/.exec(iso);
  return m ? `${m[1]} ${m[2]} ${T('北京时间', 'CST')}` : fmtTime(iso);
}

function roleLabel(r) {
  return T(...(ROLES[r] || [r, r]));
}

export function stateBadge(state) {
  const s = STATES[state] || [state, state, ''];
  return badge(T(s[0], s[1]), `state ${s[2]}`);
}

export function targetText(t) {
  if (!t) return '';
  return t.type === 'access' ? `${T('数据使用记录', 'Access entry')} #${t.logIndex}` : `${T('数据记录', 'Data record')} #${t.record}`;
}

function overdueFlag(o) {
  return o.overdue ? h('span', { class: 'badge bad overdue-flag', 'data-overdue': '1' }, `⚠ ${T('逾期', 'Overdue')}`) : null;
}

/** The forwarding deadline: its CST end, and whether it was kept. */
export function deadlineView(o) {
  const d = o.deadline || {};
  const s = DEADLINE[d.status] || [d.status || '', d.status || '', ''];
  let text;
  if (d.at) {
    text = h('time', { datetime: d.at }, cst(d.at));
  } else if (d.status === 'unknown') {
    text = h('span', {}, T('工作日历缺少所需年份,暂无法计算', 'The working-day calendar lacks the year it needs: not computed yet'), d.reason ? h('span', { class: 'muted small' }, ` (${d.reason})`) : null);
  } else {
    text = h('span', {}, T('提交当日已转至节点,在任何期限之内', 'Forwarded the day it was filed: within any deadline'));
  }
  return h(
    'span',
    { class: 'deadline', 'data-status': d.status || '', 'data-date': d.date || '' },
    text,
    ' ',
    badge(T(s[0], s[1]), s[2]),
    h('span', { class: 'muted small' }, ` ${T('(两个工作日)', '(two working days)')}`),
  );
}

function claimsOf(token) {
  try {
    return c.decodeJws(token).payload;
  } catch {
    return {};
  }
}

function stepsTable(steps) {
  return table(
    [T('步骤', 'Step'), T('执行方(签名者)', 'Actor (signer)'), T('时间', 'When'), T('日志序号', 'Log index'), T('说明', 'Note')],
    steps.map((s) => {
      const claims = claimsOf(s.statement);
      return [
        h('span', { 'data-step': s.step }, T(...(STEPS[s.step] || [s.step, s.step]))),
        h('span', {}, `${roleLabel(s.actor.role)} ${s.actor.uscc}`, h('br'), h('code', { class: 'did small' }, s.actor.did || '')),
        cst(s.at),
        String(s.logIndex),
        claims.explanation || '',
      ];
    }),
    { caption: T('各步骤均由执行方签名,并按摘要链接', 'Each step is signed by its actor and chained by digest'), cls: 'objection-steps' },
  );
}

const show = (v) => (v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

function correctionView(k) {
  const oldF = k.old && typeof k.old === 'object' ? k.old : {};
  const newF = k.new && typeof k.new === 'object' ? k.new : {};
  const keys = [...new Set([...Object.keys(oldF), ...Object.keys(newF)])];
  return h(
    'div',
    { class: 'correction', 'data-record': String(k.record) },
    h('p', {}, `${T('数据记录', 'Data record')} #${k.record} · ${cst(k.at)} · ${T('日志序号', 'log index')} ${k.logIndex}`),
    table(
      [T('字段', 'Field'), T('原值', 'Old'), T('新值', 'New')],
      keys.map((f) => {
        const changed = JSON.stringify(oldF[f]) !== JSON.stringify(newF[f]);
        return [f, changed ? h('del', {}, show(oldF[f])) : show(oldF[f]), changed ? h('ins', {}, show(newF[f])) : show(newF[f])];
      }),
      { caption: T('更正前后', 'Before and after the correction'), cls: 'correction-fields' },
    ),
  );
}

function outcomeView(o) {
  if (o.state !== 'corrected' && o.state !== 'rejected') return null;
  const last = (o.steps || []).filter((s) => s.step === o.state).pop();
  const explanation = last ? claimsOf(last.statement).explanation : '';
  return h(
    'section',
    { class: `outcome ${o.state}`, 'data-outcome': o.state },
    h('h3', {}, T('处理结果', 'Outcome')),
    h('p', {}, stateBadge(o.state), ' ', last ? cst(last.at) : ''),
    explanation ? h('p', { class: 'explanation' }, explanation) : null,
    (o.corrections || []).map(correctionView),
    o.state === 'corrected' && o.target?.type === 'access' ? h('p', { class: 'muted' }, T('访问记录不可更改:结论已记录在日志中。', 'An access entry cannot change: the finding is recorded in the log.')) : null,
  );
}

function attachmentsView(list) {
  if (!list || !list.length) return h('span', { class: 'muted' }, T('无', 'None'));
  return h(
    'ul',
    { class: 'attachments' },
    list.map((a) => h('li', {}, h('span', { class: 'att-name' }, a.name), a.mediaType ? h('span', { class: 'muted small' }, ` (${a.mediaType})`) : null, h('br'), h('code', { class: 'small sha' }, `SHA-256 ${a.sha256}`))),
  );
}

/** One objection as a card; `full` adds the steps and the outcome (from a detail view). */
export function objectionCard(o, { full = false, link = true, showEnterprise = false } = {}) {
  return h(
    'li',
    { class: `card objection${o.overdue ? ' overdue' : ''}`, 'data-objection': o.id, 'data-state': o.state, 'data-overdue': o.overdue ? '1' : '0' },
    h('h2', { class: 'objection-title' }, targetText(o.target), ' ', stateBadge(o.state), ' ', overdueFlag(o)),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, T('编号', 'Id')),
      h('dd', { class: 'mono' }, link ? h('a', { href: `#/objection/${encodeURIComponent(o.id)}` }, o.id) : o.id),
      showEnterprise ? [h('dt', {}, T('企业', 'Enterprise')), h('dd', { class: 'mono' }, o.enterprise)] : null,
      h('dt', {}, T('提交(签名)时间', 'Filed (signed)')),
      h('dd', {}, cst(o.filedAt)),
      h('dt', {}, T('受理方', 'Received by')),
      h('dd', {}, `${roleLabel(o.receivedBy?.role)} ${o.receivedBy?.uscc || ''} · ${cst(o.receivedAt)}`),
      h('dt', {}, T('转至节点', 'Forwarded')),
      h('dd', {}, o.forwardedAt ? cst(o.forwardedAt) : T('尚未转送', 'Not yet')),
      h('dt', {}, T('转送期限', 'Forwarding deadline')),
      h('dd', {}, deadlineView(o)),
      h('dt', {}, T('异议理由', 'Reason')),
      h('dd', { class: 'reason' }, o.reason),
      h('dt', {}, T('附件(仅摘要)', 'Attachments (digests only)')),
      h('dd', {}, attachmentsView(o.attachments)),
    ),
    full && o.steps ? stepsTable(o.steps) : null,
    full ? outcomeView(o) : null,
  );
}

function failure(el, e, retry) {
  clear(el, errorBox(e instanceof ApiError ? e.describe() : String(e.message || e), retry));
}

// ------------------------------------------------------------------ signing in the browser

/** The claims of a signed request exactly as src/portal/static/crypto.js `signedRequest` makes them. */
function requestPayload(nodeDid, action, claims, jti) {
  return { ...claims, action, aud: nodeDid, iat: Math.floor(Date.now() / 1000), jti };
}

function requestHeader(did) {
  return { alg: 'EdDSA', typ: c.REQUEST_TYP, kid: c.verificationMethod(did) };
}

/** Signs `payload`, and checks the token carries exactly the text shown. */
async function signExactly(key, payload, shownText) {
  const token = await c.signJws(payload, c.REQUEST_TYP, key);
  if (c.fromUtf8(c.fromBase64url(token.split('.')[1])) !== shownText) throw new Error(T('签名内容与预览不一致', 'The signed text differs from the preview'));
  return token;
}

async function myKey(st) {
  const key = await c.getKey(session.me.participant.did);
  if (!key) say(st, T('本浏览器中没有您登录所用的密钥。', 'The key you signed in with is not in this browser.'), 'bad');
  return key;
}

function exactText(did, payload) {
  return [
    h('p', { class: 'small muted' }, T('受保护头部', 'Protected header')),
    h('pre', { class: 'canonical signed-header', tabindex: '0', 'aria-label': T('受保护头部', 'Protected header') }, JSON.stringify(requestHeader(did))),
    h('p', { class: 'small muted' }, T('签名的声明(逐字节)', 'Signed claims (byte for byte)')),
    h('pre', { class: 'canonical signed-payload', tabindex: '0', 'aria-label': T('签名的声明', 'Signed claims') }, JSON.stringify(payload)),
  ];
}

// ------------------------------------------------------------------ filing (enterprise)

function draftKey(type, ref) {
  return `consentry.objection.v1.${type}.${ref}`;
}

function loadDraft(k) {
  try {
    const d = JSON.parse(sessionStorage.getItem(k) || 'null');
    if (d && typeof d.reason === 'string' && Array.isArray(d.attachments)) return d;
  } catch {
    /* a broken draft is dropped */
  }
  return { reason: '', attachments: [], token: null };
}

/** What a target refers to, described from the enterprise's own history or data. */
async function targetSummary(target) {
  if (target.type === 'access') {
    // The one entry, whatever its place in the history (the entries after `logIndex - 1`).
    const q = new URLSearchParams({ limit: '1' });
    if (target.logIndex > 0) q.set('after', String(target.logIndex - 1));
    const d = await get(`/portal/api/history?${q}`);
    const e = d.entries.find((x) => x.index === target.logIndex);
    if (!e) return h('p', { class: 'alert', role: 'alert' }, T(`您的数据使用记录中没有 #${target.logIndex}。`, `Your access history has no entry #${target.logIndex}.`));
    return h('div', {}, h('p', {}, h('strong', {}, kindLabel(e.kind)), ' ', h('span', { class: 'mono' }, `#${e.index}`), ' ', h('time', { datetime: e.time }, fmtTime(e.time))), h('p', { class: 'entry-desc' }, describe(e)));
  }
  const d = await get('/portal/api/data');
  const r = d.records.find((x) => x.id === target.record);
  if (!r) return h('p', { class: 'alert', role: 'alert' }, T(`节点没有本企业的数据记录 #${target.record}。`, `The node holds no record #${target.record} about you.`));
  return h('div', {}, h('p', {}, h('strong', {}, r.category), ` · ${r.date} · ${r.provider}`), h('code', { class: 'small' }, JSON.stringify(r.fields)));
}

/** `#/object/access/<logIndex>` and `#/object/data/<record>`: the filing form. */
export async function objectPage(root, params) {
  const [type, ref] = params;
  const n = Number(ref);
  const target =
    type === 'access' && /^\d+$/.test(ref || '') && Number.isSafeInteger(n)
      ? { type: 'access', logIndex: n }
      : type === 'data' && /^\d+$/.test(ref || '') && Number.isSafeInteger(n) && n > 0
        ? { type: 'data', record: n }
        : null;
  root.append(h('h1', {}, T('提出异议', 'File an objection')));
  if (!target) {
    root.append(h('p', { class: 'alert', role: 'alert' }, T('异议对象无效。请从「数据使用记录」或「我的数据」中选择。', 'Not a valid target. Choose one from “Who accessed my data” or “My data”.')));
    return;
  }
  const me = session.me.participant;
  const node = await nodeInfo();
  root.append(
    h('p', { class: 'lead' }, T(
      '节点收到异议后立即受理并转至节点核查(受理方须在两个工作日内转送)。处理的每一步都由执行方签名并记入访问日志。',
      'The node receives your objection and takes it for review at once (a receiver has two working days to forward it). Every step is signed by whoever takes it and recorded in the access log.',
    )),
    h('section', { class: 'card target', id: 'objection-target' }, h('h2', {}, T('异议对象', 'What you object to'), ': ', targetText(target)), await targetSummary(target)),
  );

  const key = draftKey(type, ref);
  const draft = loadDraft(key);
  const save = () => sessionStorage.setItem(key, JSON.stringify(draft));
  const jti = c.jti();

  const form = h('form', { class: 'card', id: 'objection-form', novalidate: true });
  const reason = h('textarea', { rows: '6', class: 'prose', name: 'reason', spellcheck: 'true' });
  reason.value = draft.reason;
  const counter = h('p', { class: 'hint counter', id: 'reason-count' });
  const files = h('input', { type: 'file', multiple: true, name: 'attachments' });
  const attList = h('ul', { class: 'plain attachments', id: 'attachment-list' });
  const headerPre = h('pre', { class: 'canonical signed-header', id: 'objection-header', tabindex: '0', 'aria-label': T('受保护头部', 'Protected header') });
  const preview = h('pre', { class: 'canonical signed-payload', id: 'objection-preview', tabindex: '0', 'aria-label': T('签名的声明', 'Signed claims') });
  const st = statusLine();
  const submit = h('button', { type: 'submit', class: 'primary', id: 'objection-submit' }, T('签名并提交异议', 'Sign and file the objection'));

  const claims = () => ({
    enterprise: me.uscc,
    target,
    reason: reason.value.trim(),
    attachments: draft.attachments.map((a) => (a.mediaType ? { name: a.name, sha256: a.sha256, mediaType: a.mediaType } : { name: a.name, sha256: a.sha256 })),
  });
  const payloadNow = () => requestPayload(node.did, 'object', claims(), jti);

  const reasonProblem = () => {
    const t = reason.value.trim();
    if (!t) return T('请填写异议理由。', 'Please give the reason.');
    if (chars(t) > MAX_TEXT) return T(`异议理由最多 ${MAX_TEXT} 字(现为 ${chars(t)} 字)。`, `The reason may have at most ${MAX_TEXT} characters (it has ${chars(t)}).`);
    return '';
  };

  const refresh = () => {
    const n2 = chars(reason.value.trim());
    counter.textContent = T(`${n2} / ${MAX_TEXT} 字`, `${n2} / ${MAX_TEXT} characters`);
    counter.classList.toggle('over', n2 > MAX_TEXT);
    headerPre.textContent = JSON.stringify(requestHeader(me.did));
    preview.textContent = JSON.stringify(payloadNow());
    clear(
      attList,
      draft.attachments.map((a, i) =>
        h(
          'li',
          { class: 'attachment', 'data-sha256': a.sha256 },
          h('span', { class: 'att-name' }, a.name),
          a.mediaType ? h('span', { class: 'muted small' }, ` (${a.mediaType})`) : null,
          h('br'),
          h('code', { class: 'small sha' }, `SHA-256 ${a.sha256}`),
          ' ',
          h('button', {
            type: 'button',
            class: 'link',
            'aria-label': T(`移除附件 ${a.name}`, `Remove attachment ${a.name}`),
            onclick: () => {
              draft.attachments.splice(i, 1);
              draft.token = null;
              save();
              refresh();
              files.focus();
            },
          }, T('移除', 'Remove')),
        ),
      ),
    );
  };

  reason.addEventListener('input', () => {
    draft.reason = reason.value;
    draft.token = null;
    save();
    refresh();
    const p = reasonProblem();
    // Live only for the length: an empty field is said at submission, not while typing.
    setFieldError(form, 'reason', p && reason.value.trim() ? p : '');
  });

  files.addEventListener('change', async () => {
    setFieldError(form, 'attachments', '');
    const picked = [...files.files];
    files.value = '';
    const problems = [];
    for (const f of picked) {
      if (draft.attachments.length >= MAX_ATTACHMENTS) {
        problems.push(T(`最多 ${MAX_ATTACHMENTS} 个附件。`, `At most ${MAX_ATTACHMENTS} attachments.`));
        break;
      }
      const name = f.name.trim();
      if (!name || chars(name) > MAX_NAME) {
        problems.push(T(`文件名须为 1–${MAX_NAME} 个字:${f.name}`, `A file name must have 1–${MAX_NAME} characters: ${f.name}`));
        continue;
      }
      say(st, T(`正在计算 ${name} 的 SHA-256…`, `Computing the SHA-256 of ${name}…`));
      let sha256;
      try {
        sha256 = c.hex(await c.sha256(await f.arrayBuffer()));
      } catch (e) {
        problems.push(`${name}: ${e.message}`);
        continue;
      }
      if (draft.attachments.some((a) => a.sha256 === sha256 && a.name === name)) continue;
      draft.attachments.push(f.type ? { name, sha256, mediaType: f.type } : { name, sha256 });
    }
    draft.token = null;
    save();
    refresh();
    say(st, problems.length ? '' : T(`已添加附件:摘要在本浏览器中计算,文件不会上传。`, 'Attachments added: digests computed in this browser; the files are not uploaded.'), problems.length ? '' : 'ok');
    if (problems.length) setFieldError(form, 'attachments', problems.join(' '));
  });

  form.append(
    field({
      id: 'objection-reason',
      name: 'reason',
      label: T('异议理由(必填)', 'Reason (required)'),
      hint: T(`说明哪里有误、应当如何。最多 ${MAX_TEXT} 字。`, `Say what is wrong and what it should be. At most ${MAX_TEXT} characters.`),
      control: reason,
    }),
    counter,
    field({
      id: 'objection-files',
      name: 'attachments',
      label: T('附件(可选)', 'Attachments (optional)'),
      hint: T(
        `选择证明材料:本页面在浏览器中计算每个文件的 SHA-256,只发送文件名、摘要和类型,文件本身不会上传。最多 ${MAX_ATTACHMENTS} 个。`,
        `Choose supporting files: this page computes each file's SHA-256 in the browser and sends only the name, digest and type — never the file. At most ${MAX_ATTACHMENTS}.`,
      ),
      control: files,
    }),
    attList,
    h('h2', {}, T('预览:这正是您要签名的内容', 'Preview: exactly what you sign')),
    h('p', { class: 'hint' }, T('签名时会更新签名时间(iat),其余内容与下方一致。', 'The signing time (iat) is set when you sign; everything else is as below.')),
    h('p', { class: 'small muted' }, T('受保护头部', 'Protected header')),
    headerPre,
    h('p', { class: 'small muted' }, T('签名的声明(逐字节)', 'Signed claims (byte for byte)')),
    preview,
    st,
    h('div', { class: 'actions' }, submit, h('a', { class: 'button secondary', href: target.type === 'access' ? '#/history' : '#/data' }, T('返回', 'Back'))),
  );
  const done = h('section', { class: 'card done', id: 'objection-result', hidden: true });
  root.append(form, done);
  refresh();

  const finished = (o) => {
    sessionStorage.removeItem(key);
    form.hidden = true;
    clear(
      done,
      h('h2', { id: 'objection-done', tabindex: '-1' }, T('异议已提交', 'Objection filed')),
      h('p', {}, T('编号', 'Id'), ': ', h('a', { href: `#/objection/${encodeURIComponent(o.id)}`, class: 'mono', id: 'objection-id' }, o.id), ' ', stateBadge(o.state)),
      o.deadline ? h('p', {}, T('转送期限', 'Forwarding deadline'), ': ', deadlineView(o)) : null,
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button primary', href: '#/objections', id: 'objection-list-link' }, T('查看我的异议', 'See my objections')),
        o.receipt
          ? h('button', { type: 'button', class: 'secondary', id: 'download-receipt', onclick: () => download(`${o.id}-receipt.jwt`, o.receipt, 'application/jwt') }, T('下载节点签名的受理回执', 'Download the node-signed receipt'))
          : null,
      ),
    );
    done.hidden = false;
    done.querySelector('h2').focus();
  };

  const place = (e) => {
    if (!(e instanceof ApiError) || e.code !== 'invalid-objection') return false;
    if (/^reason/i.test(e.message)) return setFieldError(form, 'reason', e.message);
    if (/attachment/i.test(e.message)) return setFieldError(form, 'attachments', e.message);
    return false;
  };

  const send = async (token) => {
    say(st, T('正在提交…', 'Sending…'));
    submit.disabled = true;
    try {
      const o = await post('/portal/api/objections', { body: token });
      say(st, '');
      finished(o);
    } catch (e) {
      const lodged = e instanceof ApiError && e.status === 409 && /already lodged as (obj-[0-9a-f-]+)/.exec(e.message);
      if (lodged) {
        finished({ id: lodged[1], state: 'forwarded' });
        return;
      }
      // Kept only when the node may not have seen it: Retry then sends exactly the same filing.
      if (!(e instanceof ApiError) || (e.status !== 0 && e.status < 500)) {
        draft.token = null;
        save();
      }
      say(st, '');
      if (place(e)) {
        focusFirstError(form);
      } else {
        failure(st, e, draft.token ? () => send(draft.token) : null);
      }
    } finally {
      submit.disabled = false;
    }
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const p = reasonProblem();
    if (p) setFieldError(form, 'reason', p);
    if (draft.attachments.length > MAX_ATTACHMENTS) setFieldError(form, 'attachments', T(`最多 ${MAX_ATTACHMENTS} 个附件。`, `At most ${MAX_ATTACHMENTS} attachments.`));
    if (p || draft.attachments.length > MAX_ATTACHMENTS) {
      focusFirstError(form);
      return;
    }
    if (draft.token) {
      // A filing signed before a failed call, with the same content: send the very same bytes.
      const kept = claimsOf(draft.token);
      const now = claims();
      if (JSON.stringify({ ...kept, action: undefined, aud: undefined, iat: undefined, jti: undefined }) === JSON.stringify(now)) {
        await send(draft.token);
        return;
      }
      draft.token = null;
    }
    const k = await myKey(st);
    if (!k) return;
    const payload = payloadNow();
    const text = JSON.stringify(payload);
    preview.textContent = text;
    const ok = await confirmDialog({
      title: T('签名并提交此异议?', 'Sign and file this objection?'),
      body: [
        T('您的密钥将对以下内容签名;提交后节点即受理并转至核查。', 'Your key signs the text below; the node then receives the objection and takes it for review.'),
        ...exactText(me.did, payload),
      ],
      confirm: T('签名并提交', 'Sign and file'),
    });
    if (!ok) {
      say(st, T('已取消签名,内容已保留。', 'Signature cancelled; nothing was lost.'));
      return;
    }
    let token;
    try {
      token = await signExactly(k, payload, text);
    } catch (e) {
      failure(st, e);
      return;
    }
    draft.token = token;
    save();
    await send(token);
  });
}

// ------------------------------------------------------------------ lists

async function pagedList(box, st, path, render) {
  let next = null;
  const more = h('button', { type: 'button', class: 'secondary', id: 'objections-more', hidden: true }, T('加载更多', 'Load more'));
  const list = h('ul', { class: 'plain objections', id: 'objections' });
  clear(box, list, more);
  const load = async () => {
    delete box.dataset.done;
    say(st, T('正在读取…', 'Loading…'));
    let d;
    try {
      d = await get(next ? `${path}${path.includes('?') ? '&' : '?'}before=${encodeURIComponent(next)}` : path);
    } catch (e) {
      failure(st, e, load);
      return;
    }
    d.objections.forEach((o) => list.append(render(o)));
    next = d.next;
    more.hidden = !next;
    const n = list.children.length;
    const late = list.querySelectorAll('li.objection.overdue').length;
    say(st, n ? T(`共 ${n} 件${late ? `,其中 ${late} 件逾期` : ''}${next ? '(还有更多)' : ''}。`, `${n} objection(s)${late ? `, ${late} overdue` : ''}${next ? ' (more available)' : ''}.`) : '', late ? 'bad' : '');
    if (!n) list.append(h('li', { class: 'empty', id: 'no-objections' }, T('没有异议。', 'No objections.')));
    box.dataset.done = '1';
  };
  more.addEventListener('click', load);
  await load();
}

async function ownObjections(root) {
  root.append(
    h('h1', {}, T('我的异议申诉', 'My objections')),
    h('p', { class: 'lead' }, T(
      '对本企业的数据或数据使用记录有异议时,请在「数据使用记录」或「我的数据」中对相应条目点击「提出异议」。受理方须在两个工作日内把异议转至节点。',
      'To object to your data or to an entry of who accessed it, use “Object” next to it in “Who accessed my data” or “My data”. Whoever receives an objection has two working days to forward it to the node.',
    )),
    h('p', { class: 'actions' }, h('a', { class: 'button secondary', href: '#/history' }, T('数据使用记录', 'Who accessed my data')), h('a', { class: 'button secondary', href: '#/data' }, T('我的数据', 'My data'))),
  );
  const st = statusLine();
  const box = h('div', { id: 'objections-box' });
  root.append(st, box);
  await pagedList(box, st, '/portal/api/objections?limit=50', (o) => objectionCard(o, { full: true }));
}

const FILTER_STATES = ['received', 'forwarded', 'under-review', 'corrected', 'rejected'];

async function allObjections(root, params) {
  const isNode = session.me.participant.role === 'node';
  const initial = new URLSearchParams(params[0] || '');
  root.append(
    h('h1', {}, T('异议申诉', 'Objections')),
    h('p', { class: 'lead' }, T(
      '全部异议,最新的在前。受理方须在两个工作日内转至节点;逾期的会被标出,日历缺少年份而无法计算期限的也可筛选。',
      'Every objection, newest first. Receivers have two working days to forward them to the node; overdue ones are flagged, and those whose deadline cannot be computed (a year missing from the calendar) can be listed.',
    )),
  );
  if (isNode) root.append(cliHelp());
  const form = h('form', { class: 'card filters-grid', id: 'objections-filter', novalidate: true });
  const state = h('select', { name: 'state' }, h('option', { value: '' }, T('全部', 'All')), FILTER_STATES.map((s) => h('option', { value: s }, T(STATES[s][0], STATES[s][1]))));
  state.value = FILTER_STATES.includes(initial.get('state')) ? initial.get('state') : '';
  const enterprise = h('input', { type: 'text', class: 'mono', maxlength: '18', autocomplete: 'off', spellcheck: 'false', value: initial.get('enterprise') || '' });
  const overdue = h('input', { type: 'checkbox', id: 'f-overdue', name: 'overdue', checked: initial.get('overdue') === 'true' });
  const unknown = h('input', { type: 'checkbox', id: 'f-unknown', name: 'deadlineUnknown', checked: initial.get('deadlineUnknown') === 'true' });
  form.append(
    field({ id: 'f-state', name: 'state', label: T('状态', 'State'), control: state }),
    field({ id: 'f-obj-enterprise', name: 'enterprise', label: T('企业(统一社会信用代码)', 'Enterprise (USCC)'), control: enterprise }),
    h(
      'fieldset',
      { class: 'flags' },
      h('legend', {}, T('转送期限', 'Forwarding deadline')),
      h('div', { class: 'check' }, overdue, h('label', { for: 'f-overdue' }, T('仅逾期的', 'Overdue only'))),
      h('div', { class: 'check' }, unknown, h('label', { for: 'f-unknown' }, T('仅期限未知的', 'Deadline unknown only'))),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'objections-search' }, T('筛选', 'Filter'))),
  );
  const st = statusLine();
  const box = h('div', { id: 'objections-box' });
  root.append(form, st, box);
  const search = async () => {
    clearFieldErrors(form);
    const e = enterprise.value.trim();
    if (e && usccProblem(e)) {
      setFieldError(form, 'enterprise', T('统一社会信用代码校验不通过', 'Not a valid USCC'));
      focusFirstError(form);
      return;
    }
    const q = new URLSearchParams();
    if (state.value) q.set('state', state.value);
    if (e) q.set('enterprise', e);
    if (overdue.checked) q.set('overdue', 'true');
    if (unknown.checked) q.set('deadlineUnknown', 'true');
    history.replaceState(null, '', `#/objections/${encodeURIComponent(q.toString())}`);
    q.set('limit', '100');
    await pagedList(box, st, `/portal/api/objections?${q}`, (o) => objectionCard(o, { showEnterprise: true }));
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    search();
  });
  await search();
}

/** `#/objections`: an enterprise's own; everyone's for regulators and the operator. */
export async function objectionsPage(root, params) {
  if (session.me.participant.role === 'enterprise') return ownObjections(root);
  return allObjections(root, params);
}

// ------------------------------------------------------------------ detail, and the operator's steps

function cliHelp(id = 'ID') {
  return h(
    'details',
    { class: 'card cli' },
    h('summary', {}, T('也可在命令行中用节点密钥处理', 'Or act at the command line with the node key')),
    h('pre', { class: 'canonical', tabindex: '0' }, [
      `consentry admin objection list --overdue`,
      `consentry admin objection show ${id}`,
      `consentry admin objection review ${id} --note "…"`,
      `consentry admin objection resolve ${id} --outcome rejected --explanation "…"`,
      `consentry admin objection resolve ${id} --outcome corrected --explanation "…" --fields fields.json`,
    ].join('\n')),
  );
}

async function signAndSend(st, id, action, claims, title, app) {
  const k = await myKey(st);
  if (!k) return;
  const node = await nodeInfo();
  const payload = requestPayload(node.did, `${action}-objection`, claims, c.jti());
  const text = JSON.stringify(payload);
  const ok = await confirmDialog({ title, body: [T('节点密钥将对以下内容签名:', 'The node key signs the text below:'), ...exactText(session.me.participant.did, payload)], confirm: T('签名并提交', 'Sign and submit') });
  if (!ok) {
    say(st, T('已取消。', 'Cancelled.'));
    return;
  }
  say(st, T('正在签名并提交…', 'Signing and sending…'));
  try {
    const token = await signExactly(k, payload, text);
    const r = await post(`/portal/api/objections/${encodeURIComponent(id)}/${action}`, { body: token });
    say(st, T(`已提交:状态为 ${r.state}。`, `Done: the objection is ${r.state}.`), 'ok');
    app.render();
  } catch (e) {
    failure(st, e);
  }
}

function operatorActions(o, app) {
  const st = statusLine();
  if (o.state === 'forwarded') {
    const form = h('form', { class: 'card', id: 'review-form', novalidate: true });
    const note = h('textarea', { rows: '3', class: 'prose' });
    form.append(
      h('h2', {}, T('开始核查', 'Open the review')),
      field({ id: 'review-note', name: 'note', label: T('备注(可选)', 'Note (optional)'), hint: T(`最多 ${MAX_TEXT} 字。`, `At most ${MAX_TEXT} characters.`), control: note }),
      st,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'review-btn' }, T('签名并开始核查', 'Sign and open the review'))),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearFieldErrors(form);
      const t = note.value.trim();
      if (chars(t) > MAX_TEXT) {
        setFieldError(form, 'note', T(`最多 ${MAX_TEXT} 字。`, `At most ${MAX_TEXT} characters.`));
        focusFirstError(form);
        return;
      }
      signAndSend(st, o.id, 'review', t ? { objection: o.id, explanation: t } : { objection: o.id }, T('开始核查此异议?', 'Open the review of this objection?'), app);
    });
    return form;
  }
  if (o.state === 'under-review') {
    const form = h('form', { class: 'card', id: 'resolve-form', novalidate: true });
    const radio = (v, zh, en) => h('div', { class: 'radio' }, h('input', { type: 'radio', name: 'outcome', id: `outcome-${v}`, value: v }), h('label', { for: `outcome-${v}` }, T(zh, en)));
    const outcome = h('fieldset', { 'data-field': 'outcome', class: 'field' }, h('legend', {}, T('结论', 'Outcome')), radio('rejected', '异议不成立(驳回)', 'Not upheld (reject)'), radio('corrected', '异议成立(更正)', 'Upheld (correct)'), h('p', { class: 'error', 'aria-live': 'polite' }));
    const explanation = h('textarea', { rows: '4', class: 'prose' });
    const fields = h('textarea', { rows: '6', spellcheck: 'false' });
    const fieldsBox = field({
      id: 'resolve-fields',
      name: 'fields',
      label: T('更正后的完整字段(JSON 对象)', 'The record\'s complete corrected fields (a JSON object)'),
      hint: T('仅在数据记录异议成立时需要;将整体替换该记录的字段,原字段会保留。', 'Needed only when a data objection is upheld; it replaces the record\'s fields as a whole (the old ones are kept).'),
      control: fields,
    });
    const needsFields = () => o.target?.type === 'data' && form.querySelector('input[name="outcome"]:checked')?.value === 'corrected';
    fieldsBox.hidden = true;
    outcome.addEventListener('change', () => {
      fieldsBox.hidden = !needsFields();
    });
    form.append(
      h('h2', {}, T('处理结果', 'Resolve')),
      outcome,
      field({ id: 'resolve-explanation', name: 'explanation', label: T('说明(必填,企业会看到)', 'Explanation (required; the enterprise sees it)'), hint: T(`最多 ${MAX_TEXT} 字。`, `At most ${MAX_TEXT} characters.`), control: explanation }),
      fieldsBox,
      st,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'resolve-btn' }, T('签名并提交结论', 'Sign and resolve'))),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      clearFieldErrors(form);
      const out = form.querySelector('input[name="outcome"]:checked')?.value;
      const t = explanation.value.trim();
      if (!out) setFieldError(form, 'outcome', T('请选择结论。', 'Choose the outcome.'));
      if (!t) setFieldError(form, 'explanation', T('请填写说明。', 'Please give the explanation.'));
      else if (chars(t) > MAX_TEXT) setFieldError(form, 'explanation', T(`最多 ${MAX_TEXT} 字。`, `At most ${MAX_TEXT} characters.`));
      const claims = { objection: o.id, outcome: out, explanation: t };
      if (needsFields()) {
        let v = null;
        try {
          v = JSON.parse(fields.value);
        } catch {
          v = null;
        }
        if (!v || typeof v !== 'object' || Array.isArray(v)) setFieldError(form, 'fields', T('须为 JSON 对象,例如 {"taxPaid": 950}', 'Must be a JSON object, e.g. {"taxPaid": 950}'));
        else claims.correction = { fields: v };
      }
      if (form.querySelector('.has-error')) {
        focusFirstError(form);
        return;
      }
      signAndSend(st, o.id, 'resolve', claims, T('提交此结论?结论是最终的。', 'Submit this outcome? It is final.'), app);
    });
    return form;
  }
  return null;
}

/** `#/objection/<id>`: one objection with its steps, statements, outcome; the operator's actions. */
export async function objectionPage(root, params, app) {
  const id = params[0] || '';
  const o = await get(`/portal/api/objections/${encodeURIComponent(id)}`);
  const role = session.me.participant.role;
  root.append(
    h('h1', {}, T('异议详情', 'Objection')),
    h('p', {}, h('a', { href: '#/objections' }, T('← 返回异议列表', '← Back to the objections'))),
    h('ul', { class: 'plain' }, objectionCard(o, { full: true, link: false, showEnterprise: role !== 'enterprise' })),
  );
  if (role === 'node') {
    const a = operatorActions(o, app);
    if (a) root.append(a);
    root.append(cliHelp(o.id));
  }
  root.append(
    h('h2', {}, T('已签名文件', 'Signed statements')),
    h('p', { class: 'muted small' }, `${T('异议书摘要', 'Filing digest')} SHA-256 ${o.filingSha256}`),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', id: 'download-filing', onclick: () => download(`${o.id}-filing.jwt`, o.filing, 'application/jwt') }, T('下载异议书(企业签名)', 'Download the filing (signed by the enterprise)')),
      o.receipt ? h('button', { type: 'button', class: 'secondary', id: 'download-receipt', onclick: () => download(`${o.id}-receipt.jwt`, o.receipt, 'application/jwt') }, T('下载受理回执', 'Download the receipt')) : null,
    ),
    h('details', {}, h('summary', {}, T('异议书的声明', 'The filing\'s claims')), h('pre', { class: 'canonical', tabindex: '0' }, JSON.stringify(claimsOf(o.filing), null, 2))),
  );
}
