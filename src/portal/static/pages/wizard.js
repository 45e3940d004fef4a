// The grant wizard: recipients → data → terms → letters → preview and sign → done. Every change is
// kept in sessionStorage, so a cancelled signature, a reload or a failed network call loses nothing;
// the signed bytes are kept too, so a retry submits exactly the same grant (the node answers 200 for
// a grant it already holds).
//
// Answering a consent request (#/wizard/request/<id>): the wizard starts from the requested terms,
// and the enterprise may narrow them but not widen them (checked here per step, and by the node,
// which refuses a grant that goes beyond the request with every reason).

import { T } from '../i18n.js';
import { h, clear, field, setFieldError, clearFieldErrors, focusFirstError, confirmDialog, statusLine, say, errorBox, newId, badge } from '../ui.js';
import { ApiError, get, post, catalog, session } from '../api.js';
import * as c from '../crypto.js';

const KEY = 'consentry.wizard.v1';
const STEPS = [
  ['接收方', 'Recipients'],
  ['数据', 'Data'],
  ['条件', 'Terms'],
  ['授权书', 'Letters'],
  ['预览与签名', 'Preview and sign'],
  ['完成', 'Done'],
];
const GRAN = {
  raw: ['原始明细', 'raw records'],
  derived: ['加工结果', 'derived results'],
};
const PER = { day: ['日', 'day'], week: ['周', 'week'], month: ['月', 'month'] };

const pad = (n) => String(n).padStart(2, '0');
function localInput(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function isoDate(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
/** datetime-local value (local time) → YYYY-MM-DDTHH:MM:SSZ. */
export function utcSeconds(local) {
  const d = local instanceof Date ? local : new Date(local);
  if (Number.isNaN(d.getTime())) return null;
  return `${d.toISOString().slice(0, 19)}Z`;
}

function fresh() {
  const now = new Date();
  const until = new Date(now);
  until.setFullYear(until.getFullYear() + 1);
  const from = new Date(now);
  from.setFullYear(from.getFullYear() - 2);
  from.setMonth(0, 1);
  return {
    step: 0,
    platform: null,
    banks: [],
    categories: {},
    bankCats: {},
    purposes: [],
    dataFrom: isoDate(from),
    dataUntil: isoDate(now),
    validFrom: localInput(now),
    validUntil: localInput(until),
    usageMode: 'periodic',
    maxReleases: '4',
    per: 'month',
    accepted: {},
    grantId: null,
    slot: null,
    created: null,
    signed: null,
    result: null,
    request: null,
    answered: null,
    errors: {},
  };
}

/** Who asked: the requester's name as the requested terms give it. */
export function requesterName(r) {
  const t = r.terms;
  if (t.grantee.uscc === r.requester.uscc) return t.grantee.name;
  return (t.onwardRecipients || []).find((b) => b.uscc === r.requester.uscc)?.name || r.requester.uscc;
}

/** The wizard's state pre-filled from a consent request `r` (GET /portal/api/consent-requests/{id}). */
function fromRequest(r) {
  const t = r.terms;
  const s = fresh();
  s.request = r;
  s.platform = t.grantee.uscc;
  s.banks = (t.onwardRecipients || []).map((b) => b.uscc);
  s.categories = Object.fromEntries(t.categories.map((x) => [x.code, x.granularity]));
  s.bankCats = Object.fromEntries((t.onwardRecipients || []).map((b) => [b.uscc, Object.fromEntries(b.categories.map((x) => [x.code, x.granularity]))]));
  s.purposes = [...t.purposes];
  s.dataFrom = t.dataPeriod.from;
  s.dataUntil = t.dataPeriod.until;
  // Whole minutes inside the requested window: the start rounded up (and not after now), the end down.
  const from = new Date(r.validFrom);
  const up = new Date(Math.ceil(from.getTime() / 60000) * 60000);
  s.validFrom = localInput(up.getTime() <= Date.now() ? up : new Date());
  s.validUntil = localInput(new Date(r.validUntil));
  if (t.usage.mode === 'one-off') s.usageMode = 'one-off';
  else {
    s.usageMode = 'periodic';
    s.maxReleases = String(t.usage.maxReleases);
    s.per = t.usage.per;
  }
  return s;
}

const PER_RANK = { day: 0, week: 1, month: 2 };

/** What the wizard's choices at `step` ask beyond the consent request being answered. */
function beyondRequest(step) {
  const r = st.request;
  const errs = {};
  if (!r) return errs;
  const t = r.terms;
  const reqBanks = Object.fromEntries((t.onwardRecipients || []).map((b) => [b.uscc, b]));
  const within = (mine, asked) => Object.entries(mine).filter(([, g]) => g).every(([code, g]) => {
    const a = asked.find((x) => x.code === code);
    return a && (a.granularity === 'raw' || g === 'derived');
  });
  if (step === 0) {
    if (st.platform !== t.grantee.uscc) errs.platform = T('请求只涉及该平台,不能更换', 'The request names this platform: it cannot be changed');
    if (st.banks.some((b) => !reqBanks[b])) errs.banks = T('不能加入请求之外的银行', 'You cannot add a bank the request does not name');
  }
  if (step === 1) {
    if (!within(st.categories, t.categories)) errs.categories = T('只能选择请求中的类别,粒度不能更细(加工结果不能改为原始明细)', 'Only the requested categories, at no finer granularity (derived cannot become raw)');
    for (const b of st.banks) {
      if (reqBanks[b] && !within(st.bankCats[b] || {}, reqBanks[b].categories)) errs[`bank-${b}`] = T('该银行只能获得请求中为其列出的类别与粒度', 'This bank may get only what the request asks for it');
    }
  }
  if (step === 2) {
    if (st.purposes.some((p) => !t.purposes.includes(p))) errs.purposes = T('只能选择请求中的用途', 'Only the requested purposes');
    if (st.dataFrom < t.dataPeriod.from) errs.dataFrom = T(`不能早于请求的 ${t.dataPeriod.from}`, `Not before the requested ${t.dataPeriod.from}`);
    if (st.dataUntil > t.dataPeriod.until) errs.dataUntil = T(`不能晚于请求的 ${t.dataPeriod.until}`, `Not after the requested ${t.dataPeriod.until}`);
    if (new Date(st.validFrom) < new Date(r.validFrom)) errs.validFrom = T('不能早于请求的生效时间', 'Not before the requested start');
    if (new Date(st.validUntil) > new Date(r.validUntil)) errs.validUntil = T('不能晚于请求的失效时间', 'Not after the requested end');
    const u = t.usage;
    const more = st.usageMode === 'one-off'
      ? false
      : u.mode === 'one-off' || Number(st.maxReleases) > u.maxReleases || PER_RANK[st.per] < PER_RANK[u.per];
    if (more) errs.maxReleases = T('使用次数不能多于请求', 'No more releases than the request asks for');
  }
  return errs;
}

function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY));
    if (s && typeof s === 'object' && s.step !== undefined) return { ...fresh(), ...s };
  } catch {
    /* start over */
  }
  return fresh();
}

let st = null;
function save() {
  sessionStorage.setItem(KEY, JSON.stringify(st));
}
/** A change to the terms: what was signed no longer matches. */
function changed() {
  st.signed = null;
  st.created = null;
  save();
}

// ---------------------------------------------------------------- reference data

async function references() {
  const [dir, cat, letters] = await Promise.all([get('/portal/api/directory'), catalog(), get('/v1/catalog/letters')]);
  const providers = Object.fromEntries(cat.providers.map((p) => [p.id, p]));
  const cats = Object.fromEntries(cat.categories.map((x) => [x.code, x]));
  return { platforms: dir.platforms, cat, providers, cats, letters: letters.letters };
}

function platformOf(ref) {
  return ref.platforms.find((p) => p.uscc === st.platform) || null;
}

function selectedCodes(ref) {
  return ref.cat.categories.map((x) => x.code).filter((code) => st.categories[code]);
}

/** Providers whose letters the grant needs: those of its non-public categories. */
function neededProviders(ref) {
  const out = new Set();
  for (const code of selectedCodes(ref)) {
    const x = ref.cats[code];
    if (x && !x.public) x.providers.forEach((p) => out.add(p));
  }
  return [...out].sort();
}

/** The newest published letter of each provider. */
function currentLetter(ref, provider) {
  return ref.letters.filter((l) => l.provider === provider).sort((a, b) => b.version - a.version)[0] || null;
}

function bankAllowed(ref, code, gran) {
  const x = ref.cats[code];
  const g = st.categories[code];
  if (!x || !g) return false;
  if (gran === 'derived') return true;
  return x.public && g === 'raw';
}

// ---------------------------------------------------------------- the credential

export function buildCredential(ref) {
  const me = session.me.participant;
  const p = platformOf(ref);
  const codes = selectedCodes(ref);
  const subject = {
    enterprise: { uscc: me.uscc, name: me.name },
    grantee: { uscc: p.uscc, name: p.name, role: 'platform' },
  };
  const banks = st.banks
    .map((u) => p.banks.find((b) => b.uscc === u))
    .filter(Boolean)
    .map((b) => ({
      uscc: b.uscc,
      name: b.name,
      role: 'bank',
      categories: codes.filter((code) => st.bankCats[b.uscc]?.[code]).map((code) => ({ code, granularity: st.bankCats[b.uscc][code] })),
    }));
  if (banks.length) subject.onwardRecipients = banks;
  subject.categories = codes.map((code) => ({ code, granularity: st.categories[code] }));
  subject.purposes = ref.cat.purposes.map((x) => x.code).filter((code) => st.purposes.includes(code));
  subject.dataPeriod = { from: st.dataFrom, until: st.dataUntil };
  subject.usage = st.usageMode === 'one-off' ? { mode: 'one-off' } : { mode: 'periodic', maxReleases: Number(st.maxReleases), per: st.per };
  subject.letters = neededProviders(ref).map((prov) => {
    const l = currentLetter(ref, prov);
    return { id: l.id, sha256: st.accepted[l.id] };
  });
  // The catalog version the grant is drafted under: its releases keep that version's derived
  // forms (spec/derivations.md §2).
  subject.catalogVersion = ref.cat.catalogVersion;
  const base = st.slot.statusList.replace(/\/+$/, '');
  const idx = String(st.slot.statusIndex);
  return {
    '@context': ['https://www.w3.org/ns/credentials/v2', 'https://w3id.org/consentry/v1'],
    id: st.grantId,
    type: ['VerifiableCredential', 'CreditDataAuthorization'],
    issuer: session.me.participant.did,
    validFrom: utcSeconds(st.validFrom),
    validUntil: utcSeconds(st.validUntil),
    credentialSubject: subject,
    credentialStatus: [
      { id: `${base}/revocation#${idx}`, type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: idx, statusListCredential: `${base}/revocation` },
      { id: `${base}/suspension#${idx}`, type: 'BitstringStatusListEntry', statusPurpose: 'suspension', statusListIndex: idx, statusListCredential: `${base}/suspension` },
    ],
  };
}

/** The plain-language summary, in one language. */
export function summary(ref, cred, l) {
  const s = cred.credentialSubject;
  const L = (zh, en) => (l === 'en' ? en : zh);
  const catName = (code) => {
    const x = ref.cats[code];
    const prov = x.providers.map((p) => (l === 'en' ? ref.providers[p]?.nameEn : ref.providers[p]?.nameZh) || p).join(L('、', ', '));
    return `${l === 'en' ? x.nameEn : x.nameZh} (${code}; ${x.public ? L('公开', 'public') : L('非公开', 'non-public')}; ${L('来源', 'from')} ${prov})`;
  };
  const gran = (g) => (l === 'en' ? GRAN[g][1] : GRAN[g][0]);
  const when = (iso) => new Date(iso).toLocaleString(l === 'en' ? 'en-GB' : 'zh-CN', { hour12: false, timeZoneName: 'short' });
  const purposes = s.purposes.map((code) => {
    const p = ref.cat.purposes.find((x) => x.code === code);
    return l === 'en' ? p.nameEn : p.nameZh;
  });
  const usage = s.usage.mode === 'one-off'
    ? L('仅可使用一次', 'may be used once only')
    : L(`每${PER[s.usage.per][0]}最多 ${s.usage.maxReleases} 次`, `at most ${s.usage.maxReleases} time(s) per ${PER[s.usage.per][1]}`);
  const lines = [
    L(
      `本企业 ${s.enterprise.name}(统一社会信用代码 ${s.enterprise.uscc})授权 ${s.grantee.name}(${s.grantee.uscc})通过省级节点接收本企业的以下信用信息:`,
      `${s.enterprise.name} (USCC ${s.enterprise.uscc}) authorizes ${s.grantee.name} (${s.grantee.uscc}) to receive, through the provincial node, the following credit information about it:`,
    ),
    ...s.categories.map((x) => `• ${catName(x.code)}: ${gran(x.granularity)}`),
    L(`用途仅限:${purposes.join('、')}。`, `For these purposes only: ${purposes.join(', ')}.`),
    L(`只含记录日期在 ${s.dataPeriod.from} 至 ${s.dataPeriod.until}(含)之间的数据。`, `Only records dated ${s.dataPeriod.from} to ${s.dataPeriod.until} inclusive.`),
    L(`次数:${usage}。`, `How often: ${usage}.`),
    L(`有效期:${when(cred.validFrom)} 至 ${when(cred.validUntil)}。`, `Valid from ${when(cred.validFrom)} until ${when(cred.validUntil)}.`),
  ];
  for (const b of s.onwardRecipients || []) {
    lines.push(L(
      `${b.name}(${b.uscc})可经该平台获得:${b.categories.map((x) => `${x.code} ${gran(x.granularity)}`).join('、')}。`,
      `${b.name} (${b.uscc}) may receive through the platform: ${b.categories.map((x) => `${x.code} ${gran(x.granularity)}`).join(', ')}.`,
    ));
  }
  if (!(s.onwardRecipients || []).length) lines.push(L('不向任何银行转授。', 'No bank receives anything onward.'));
  if (s.letters.length) {
    lines.push(L(
      `本企业已阅读并接受以下授权书:${s.letters.map((x) => x.id).join('、')}。`,
      `${s.enterprise.name} has read and accepts these authorization letters: ${s.letters.map((x) => x.id).join(', ')}.`,
    ));
  }
  lines.push(L(
    '本企业可随时撤销或暂停本授权;每一次数据使用都记入可验证的访问日志,本企业可随时查看。',
    'The enterprise can revoke or suspend this grant at any time; every use of the data is written to a verifiable access log it can read at any time.',
  ));
  return lines;
}

// ---------------------------------------------------------------- validation per step

function validate(ref, step) {
  const errs = beyondRequest(step);
  if (step === 0) {
    if (!platformOf(ref)) errs.platform = T('请选择接收数据的平台', 'Choose the platform that receives the data');
  }
  if (step === 1) {
    if (!selectedCodes(ref).length) errs.categories = T('至少选择一个数据类别', 'Choose at least one category');
    for (const b of st.banks) {
      const mine = Object.entries(st.bankCats[b] || {}).filter(([code, g]) => g && st.categories[code]);
      if (!mine.length) errs[`bank-${b}`] = T('该银行至少需要一个类别,或在“接收方”中取消它', 'Give this bank at least one category, or untick it under Recipients');
      for (const [code, g] of mine) {
        if (!bankAllowed(ref, code, g)) errs[`bank-${b}`] = T(`银行不能获得 ${code} 的原始明细(非公开数据只能提供加工结果)`, `A bank cannot receive raw ${code} records (non-public data: derived results only)`);
      }
    }
  }
  if (step === 2) {
    if (!st.purposes.length) errs.purposes = T('至少选择一个用途', 'Choose at least one purpose');
    const dateOk = (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(new Date(`${v}T00:00:00Z`).getTime());
    if (!dateOk(st.dataFrom)) errs.dataFrom = T('请填写开始日期', 'Enter the first date');
    if (!dateOk(st.dataUntil)) errs.dataUntil = T('请填写结束日期', 'Enter the last date');
    else if (dateOk(st.dataFrom) && st.dataFrom > st.dataUntil) errs.dataUntil = T('结束日期不能早于开始日期', 'The last date cannot be before the first');
    const vf = new Date(st.validFrom);
    const vu = new Date(st.validUntil);
    if (Number.isNaN(vf.getTime())) errs.validFrom = T('请填写生效时间', 'Enter when the grant starts');
    else if (vf.getTime() > Date.now() + 60000) errs.validFrom = T('节点只接受已生效的授权:生效时间不能晚于现在', 'The node accepts only grants already in force: the start cannot be later than now');
    if (Number.isNaN(vu.getTime())) errs.validUntil = T('请填写失效时间', 'Enter when the grant ends');
    else if (vu <= vf) errs.validUntil = T('失效时间必须晚于生效时间', 'The end must be after the start');
    else if (vu.getTime() <= Date.now()) errs.validUntil = T('失效时间必须在未来', 'The end must be in the future');
    if (st.usageMode === 'periodic') {
      const n = Number(st.maxReleases);
      if (!Number.isInteger(n) || n < 1 || n > 4294967295) errs.maxReleases = T('次数为 1 以上的整数', 'A whole number, 1 or more');
    }
  }
  if (step === 3) {
    for (const prov of neededProviders(ref)) {
      const l = currentLetter(ref, prov);
      if (!l) errs[`letter-${prov}`] = T(`${prov} 没有发布授权书,无法授权其非公开数据`, `${prov} publishes no letter: its non-public data cannot be granted`);
      else if (!st.accepted[l.id]) errs[`letter-${prov}`] = T('请阅读并接受本授权书', 'Read and accept this letter');
    }
  }
  return errs;
}

/** Where the node's reason codes belong in the wizard. */
const REASON_PLACE = {
  'invalid-uscc': [0, 'platform'],
  'duplicate-participant': [0, 'platform'],
  'recipients-without-platform': [0, 'banks'],
  'unknown-category': [1, 'categories'],
  'duplicate-category': [1, 'categories'],
  'no-categories': [1, 'categories'],
  'bank-raw-non-public': [1, 'bank-table'],
  'recipient-not-covered': [1, 'bank-table'],
  'unknown-purpose': [2, 'purposes'],
  'no-purposes': [2, 'purposes'],
  'data-period': [2, 'dataUntil'],
  'usage-rate': [2, 'maxReleases'],
  'malformed-terms': [2, 'maxReleases'],
  'validity-window': [2, 'validUntil'],
  'not-yet-valid': [2, 'validFrom'],
  expired: [2, 'validUntil'],
  'missing-letter': [3, 'letters'],
  'unknown-letter': [3, 'letters'],
  'letter-digest': [3, 'letters'],
  'grantee-not-requested': [0, 'platform'],
  'recipient-not-requested': [0, 'banks'],
  'category-not-requested': [1, 'categories'],
  'granularity-not-requested': [1, 'categories'],
  'purpose-not-requested': [2, 'purposes'],
  'data-period-outside': [2, 'dataFrom'],
  'validity-outside': [2, 'validUntil'],
  'usage-exceeds': [2, 'maxReleases'],
};

// ---------------------------------------------------------------- the page

export async function wizardPage(root, params) {
  st = load();
  if (params[0] === 'new' || st.result) {
    st = fresh();
    save();
  }
  if (params[0] === 'request' && params[1]) {
    st = fromRequest(await get(`/portal/api/consent-requests/${encodeURIComponent(params[1])}`));
    save();
  }
  // A reload must continue this draft, not start another.
  if (params[0] === 'new' || params[0] === 'request') history.replaceState(null, '', '#/wizard');
  const ref = await references();
  root.append(h('h1', {}, st.request ? T('答复授权请求', 'Answer a consent request') : T('签署授权', 'Sign a grant')));
  if (st.request) {
    const r = st.request;
    root.append(h('div', { class: 'card request-banner', id: 'request-banner', 'data-request': r.id },
      h('p', {}, T(`${requesterName(r)}(${r.requester.uscc})请求您签署以下授权。您可以缩小范围,但不能超出请求。`, `${requesterName(r)} (${r.requester.uscc}) asks you to sign this grant. You may narrow it, not widen it.`)),
      r.message ? h('p', { class: 'muted' }, `${T('留言', 'Message')}: ${r.message}`) : null,
      h('p', { class: 'mono muted' }, r.id)));
  }
  const steps = h('ol', { class: 'steps', 'aria-label': T('步骤', 'Steps') });
  const body = h('div', { class: 'wizard-body' });
  root.append(steps, body);

  const draw = async (focusSel = null) => {
    clear(
      steps,
      STEPS.map(([zh, en], i) =>
        h(
          'li',
          { class: i === st.step ? 'current' : i < st.step ? 'done' : '', 'aria-current': i === st.step ? 'step' : null },
          i < st.step && st.step < 5 ? h('button', { type: 'button', class: 'link', onclick: () => go(i) }, `${i + 1}. ${T(zh, en)}`) : `${i + 1}. ${T(zh, en)}`,
        ),
      ),
    );
    clear(body);
    const form = h('form', { class: 'card wizard', novalidate: true, 'data-step': String(st.step) });
    // A change to a field clears the error shown next to it.
    form.addEventListener('change', (e) => {
      const box = e.target.closest('[data-field]');
      if (box && st.errors?.[box.dataset.field]) {
        delete st.errors[box.dataset.field];
        save();
      }
      if (box) setFieldError(form, box.dataset.field, '');
    });
    body.append(form);
    const drawStep = [stepRecipients, stepData, stepTerms, stepLetters, stepPreview, stepDone][st.step];
    await drawStep(form, ref);
    for (const [f, msg] of Object.entries(st.errors || {})) setFieldError(form, f, msg);
    const keep = focusSel && form.querySelector(focusSel);
    if (keep) keep.focus();
    else if (Object.keys(st.errors || {}).length) focusFirstError(form);
    else {
      const head = form.querySelector('h2');
      if (head) {
        head.setAttribute('tabindex', '-1');
        head.focus();
      }
    }
  };

  const go = (i, errors = {}) => {
    st.step = i;
    st.errors = errors;
    save();
    draw();
  };

  const nav = (form, { next = true } = {}) =>
    h(
      'div',
      { class: 'actions' },
      st.step > 0 ? h('button', { type: 'button', class: 'secondary', id: 'wizard-back', onclick: () => go(st.step - 1) }, T('上一步', 'Back')) : null,
      next ? h('button', { type: 'submit', class: 'primary', id: 'wizard-next' }, T('下一步', 'Next')) : null,
    );

  const onNext = (form) => {
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const errs = validate(ref, st.step);
      if (Object.keys(errs).length) {
        st.errors = errs;
        save();
        for (const [f, msg] of Object.entries(errs)) setFieldError(form, f, msg);
        focusFirstError(form);
        return;
      }
      go(st.step + 1);
    });
  };

  // Step 1: the platform and its banks.
  function stepRecipients(form) {
    form.append(h('h2', {}, T('1. 谁接收数据', '1. Who receives the data')));
    if (!ref.platforms.length) form.append(h('p', { class: 'alert' }, T('节点尚未接纳任何平台。', 'The node has admitted no platform yet.')));
    const pf = h(
      'fieldset',
      { 'data-field': 'platform', class: 'choices' },
      h('legend', {}, T('融资信用服务平台', 'Financing credit service platform')),
      ref.platforms.map((p) => {
        const id = newId('pf');
        return h(
          'div',
          { class: 'radio' },
          h('input', {
            type: 'radio',
            name: 'platform',
            id,
            value: p.uscc,
            checked: st.platform === p.uscc,
            onchange: () => {
              st.platform = p.uscc;
              st.banks = [];
              st.bankCats = {};
              changed();
              draw('input[name="platform"]:checked');
            },
          }),
          h('label', { for: id }, `${p.name} `, h('span', { class: 'mono muted' }, p.uscc)),
        );
      }),
      h('p', { class: 'error', 'aria-live': 'polite' }),
    );
    form.append(pf);
    const p = platformOf(ref);
    if (p) {
      form.append(
        h(
          'fieldset',
          { 'data-field': 'banks', class: 'choices' },
          h('legend', {}, T(`可经 ${p.name} 获得结果的银行(可选)`, `Banks that may receive results through ${p.name} (optional)`)),
          p.banks.length
            ? p.banks.map((b) => {
                const id = newId('bank');
                return h(
                  'div',
                  { class: 'check' },
                  h('input', {
                    type: 'checkbox',
                    id,
                    value: b.uscc,
                    'data-bank': b.uscc,
                    checked: st.banks.includes(b.uscc),
                    onchange: (e) => {
                      st.banks = e.target.checked ? [...st.banks, b.uscc] : st.banks.filter((x) => x !== b.uscc);
                      if (!e.target.checked) delete st.bankCats[b.uscc];
                      changed();
                    },
                  }),
                  h('label', { for: id }, `${b.name} `, h('span', { class: 'mono muted' }, b.uscc)),
                );
              })
            : h('p', { class: 'muted' }, T('该平台未登记银行。', 'This platform has registered no bank.')),
          h('p', { class: 'hint' }, T('银行只能获得非公开数据的加工结果,绝不获得原始明细。', 'Banks receive derived results of non-public data only, never raw records.')),
          h('p', { class: 'error', 'aria-live': 'polite' }),
        ),
      );
    }
    form.append(nav(form));
    onNext(form);
  }

  // Step 2: categories, grouped, with granularity for the platform and for each bank.
  function stepData(form) {
    form.append(h('h2', {}, T('2. 哪些数据', '2. Which data')));
    const groups = new Map();
    for (const x of ref.cat.categories) {
      if (!groups.has(x.groupZh)) groups.set(x.groupZh, []);
      groups.get(x.groupZh).push(x);
    }
    const box = h('fieldset', { 'data-field': 'categories', class: 'categories' }, h('legend', {}, T('数据类别与粒度(平台)', 'Categories and granularity (platform)')));
    for (const [group, list] of groups) {
      box.append(
        h(
          'fieldset',
          { class: 'group' },
          h('legend', {}, group),
          list.map((x) => {
            const id = newId('cat');
            const sel = h(
              'select',
              {
                id: `${id}-g`,
                'data-gran': x.code,
                'aria-label': T(`${x.code} 粒度`, `${x.code} granularity`),
                disabled: !st.categories[x.code],
                onchange: (e) => {
                  st.categories[x.code] = e.target.value;
                  for (const b of Object.keys(st.bankCats)) if (st.bankCats[b][x.code] === 'raw' && e.target.value !== 'raw') delete st.bankCats[b][x.code];
                  changed();
                  drawBanks();
                },
              },
              h('option', { value: 'derived' }, T('加工结果', 'Derived results')),
              h('option', { value: 'raw' }, T('原始明细', 'Raw records')),
            );
            sel.value = st.categories[x.code] || 'derived';
            const prov = x.providers.map((p) => T(ref.providers[p]?.nameZh, ref.providers[p]?.nameEn) || p).join(T('、', ', '));
            return h(
              'div',
              { class: 'cat' },
              h('input', {
                type: 'checkbox',
                id,
                'data-cat': x.code,
                checked: !!st.categories[x.code],
                onchange: (e) => {
                  if (e.target.checked) st.categories[x.code] = sel.value;
                  else {
                    delete st.categories[x.code];
                    for (const b of Object.keys(st.bankCats)) delete st.bankCats[b][x.code];
                  }
                  sel.disabled = !e.target.checked;
                  changed();
                  drawBanks();
                },
              }),
              h(
                'label',
                { for: id },
                h('span', { class: 'cat-name' }, T(x.nameZh, x.nameEn)),
                ' ',
                h('span', { class: 'mono muted' }, x.code),
                ' ',
                x.public ? badge(T('公开', 'public'), 'public') : badge(T('非公开', 'non-public'), 'private'),
                h('span', { class: 'provider' }, `${T('提供部门', 'Provided by')}: ${prov}`),
              ),
              sel,
            );
          }),
        ),
      );
    }
    box.append(h('p', { class: 'error', 'aria-live': 'polite' }));
    form.append(box);
    const banksBox = h('div', { 'data-field': 'bank-table' });
    const ownError = h('p', { class: 'error', 'aria-live': 'polite' });
    form.append(banksBox);
    function drawBanks() {
      const p = platformOf(ref);
      clear(banksBox, ownError);
      for (const u of st.banks) {
        const b = p.banks.find((x) => x.uscc === u);
        if (!b) continue;
        const codes = selectedCodes(ref);
        banksBox.append(
          h(
            'fieldset',
            { 'data-field': `bank-${u}`, class: 'bank-cats' },
            h('legend', {}, T(`${b.name} 可获得`, `${b.name} may receive`)),
            codes.length
              ? codes.map((code) => {
                  const x = ref.cats[code];
                  const id = newId('bc');
                  const rawOk = bankAllowed(ref, code, 'raw');
                  const s = h(
                    'select',
                    {
                      id,
                      'data-bank-cat': `${u}:${code}`,
                      onchange: (e) => {
                        st.bankCats[u] = st.bankCats[u] || {};
                        if (e.target.value) st.bankCats[u][code] = e.target.value;
                        else delete st.bankCats[u][code];
                        changed();
                      },
                    },
                    h('option', { value: '' }, T('不提供', 'Nothing')),
                    h('option', { value: 'derived' }, T('加工结果', 'Derived results')),
                    h('option', { value: 'raw', disabled: !rawOk }, rawOk ? T('原始明细', 'Raw records') : T('原始明细(不可:非公开数据或平台仅获加工结果)', 'Raw records (not allowed: non-public, or the platform gets derived only)')),
                  );
                  s.value = st.bankCats[u]?.[code] || '';
                  return h('div', { class: 'bank-cat' }, h('label', { for: id }, `${T(x.nameZh, x.nameEn)} `, h('span', { class: 'mono muted' }, code), x.public ? '' : ` · ${T('非公开', 'non-public')}`), s);
                })
              : h('p', { class: 'muted' }, T('先在上面选择类别。', 'Choose categories above first.')),
            h('p', { class: 'error', 'aria-live': 'polite' }),
          ),
        );
      }
    }
    drawBanks();
    form.append(nav(form));
    onNext(form);
  }

  // Step 3: purposes, data period, validity, how often.
  function stepTerms(form) {
    form.append(h('h2', {}, T('3. 用途、范围与期限', '3. Purposes, period and validity')));
    form.append(
      h(
        'fieldset',
        { 'data-field': 'purposes', class: 'choices' },
        h('legend', {}, T('用途(可多选)', 'Purposes (one or more)')),
        ref.cat.purposes.map((p) => {
          const id = newId('pp');
          return h(
            'div',
            { class: 'check' },
            h('input', {
              type: 'checkbox',
              id,
              'data-purpose': p.code,
              checked: st.purposes.includes(p.code),
              onchange: (e) => {
                st.purposes = e.target.checked ? [...st.purposes, p.code] : st.purposes.filter((x) => x !== p.code);
                changed();
              },
            }),
            h('label', { for: id }, T(p.nameZh, p.nameEn)),
          );
        }),
        h('p', { class: 'error', 'aria-live': 'polite' }),
      ),
    );
    const input = (key, attrs) => {
      const el = h('input', { ...attrs, value: st[key] });
      el.addEventListener('change', () => {
        st[key] = el.value;
        changed();
      });
      return el;
    };
    form.append(
      h(
        'div',
        { class: 'grid2' },
        field({ id: newId('df'), name: 'dataFrom', label: T('数据记录日期:自', 'Records dated from'), control: input('dataFrom', { type: 'date' }) }),
        field({ id: newId('du'), name: 'dataUntil', label: T('至(含)', 'until (inclusive)'), control: input('dataUntil', { type: 'date' }) }),
        field({ id: newId('vf'), name: 'validFrom', label: T('授权生效', 'Grant valid from'), hint: T('不晚于现在(节点只接受已生效的授权)', 'Now or earlier (the node accepts grants already in force)'), control: input('validFrom', { type: 'datetime-local', step: '60' }) }),
        field({ id: newId('vu'), name: 'validUntil', label: T('授权失效', 'Grant valid until'), control: input('validUntil', { type: 'datetime-local', step: '60' }) }),
      ),
    );
    const modeId = newId('mode');
    const n = input('maxReleases', { type: 'number', min: '1', step: '1', inputmode: 'numeric' });
    n.addEventListener('input', () => {
      st.maxReleases = n.value;
      changed();
    });
    const per = h('select', { onchange: (e) => { st.per = e.target.value; changed(); } }, Object.entries(PER).map(([k, [zh, en]]) => h('option', { value: k }, T(`每${zh}`, `per ${en}`))));
    per.value = st.per;
    const periodic = h('div', { class: 'grid2 periodic', hidden: st.usageMode !== 'periodic' },
      field({ id: newId('n'), name: 'maxReleases', label: T('最多次数', 'At most'), control: n }),
      field({ id: newId('per'), name: 'per', label: T('每', 'Per'), control: per }));
    const radio = (value, zh, en) => {
      const id = `${modeId}-${value}`;
      return h('div', { class: 'radio' },
        h('input', { type: 'radio', name: 'usage', id, value, checked: st.usageMode === value, onchange: () => { st.usageMode = value; periodic.hidden = value !== 'periodic'; changed(); } }),
        h('label', { for: id }, T(zh, en)));
    };
    form.append(h('fieldset', { 'data-field': 'usage', class: 'choices' }, h('legend', {}, T('使用次数', 'How often')), radio('one-off', '一次性', 'Once only'), radio('periodic', '周期性', 'Periodic'), h('p', { class: 'error', 'aria-live': 'polite' })), periodic);
    form.append(nav(form));
    onNext(form);
  }

  // Step 4: the letters of the departments whose non-public data is granted, in full.
  async function stepLetters(form) {
    form.append(h('h2', {}, T('4. 阅读并接受授权书', '4. Read and accept the letters')));
    const provs = neededProviders(ref);
    if (!provs.length) form.append(h('p', {}, T('所选数据都是公开数据,无需授权书。', 'All chosen data is public: no letter is needed.')));
    form.append(h('div', { 'data-field': 'letters' }, h('p', { class: 'error', 'aria-live': 'polite' })));
    for (const prov of provs) {
      const meta = currentLetter(ref, prov);
      const box = h('fieldset', { class: 'letter', 'data-field': `letter-${prov}`, 'data-letter': meta ? meta.id : prov });
      form.append(box);
      if (!meta) {
        box.append(h('legend', {}, prov), h('p', { class: 'error' }));
        continue;
      }
      const full = await get(`/v1/catalog/letters/${encodeURIComponent(meta.provider)}/${meta.version}`);
      const digest = await c.jcsDigest(full.letter);
      const intact = digest === full.sha256 && digest === meta.sha256;
      const id = newId('acc');
      const zhId = newId('lz');
      box.append(
        h('legend', {}, `${full.letter.titleZh} (${full.letter.id})`),
        h('p', { class: 'muted' }, `${T('提供部门', 'Provider')}: ${T(ref.providers[prov]?.nameZh, ref.providers[prov]?.nameEn) || prov} · SHA-256 ${digest.slice(0, 16)}… `, intact ? badge(T('摘要已核对', 'digest checked'), 'ok') : badge(T('摘要不符', 'digest mismatch'), 'bad')),
        h('h3', { lang: 'zh-CN', id: zhId }, `${full.letter.titleZh}(${T('具有约束力的中文文本', 'binding Chinese text')})`),
        h('div', { class: 'letter-text', lang: 'zh-CN', role: 'region', 'aria-labelledby': zhId }, full.letter.textZh),
        h('details', { class: 'translation' }, h('summary', {}, `${full.letter.titleEn} — ${T('英文译本(仅供参考)', 'English translation (for reference)')}`), h('div', { class: 'letter-text', lang: 'en' }, full.letter.textEn)),
        h(
          'div',
          { class: 'check accept' },
          h('input', {
            type: 'checkbox',
            id,
            'data-accept': full.letter.id,
            disabled: !intact,
            checked: st.accepted[full.letter.id] === digest,
            onchange: (e) => {
              if (e.target.checked) st.accepted[full.letter.id] = digest;
              else delete st.accepted[full.letter.id];
              changed();
            },
          }),
          h('label', { for: id }, T(`我已完整阅读并接受《${full.letter.titleZh}》`, `I have read in full and accept “${full.letter.titleEn}”`)),
        ),
        h('p', { class: 'error', 'aria-live': 'polite' }),
      );
    }
    form.append(nav(form));
    // Every letter fetched and shown (what a test, or a screen reader's user, may wait for).
    form.setAttribute('data-letters-loaded', '');
    onNext(form);
  }

  // Step 5: what will be signed, in words and byte for byte; sign; submit.
  async function stepPreview(form) {
    form.append(h('h2', {}, T('5. 预览与签名', '5. Preview and sign')));
    const st2 = statusLine();
    const problems = h('div', { class: 'problems' });
    form.append(problems);
    try {
      if (!st.slot) {
        say(st2, T('正在向节点申请状态位…', 'Asking the node for a status slot…'));
        st.slot = await post('/portal/api/slots');
      }
      if (!st.grantId) st.grantId = `urn:uuid:${crypto.randomUUID()}`;
      if (!st.created) st.created = `${new Date().toISOString().slice(0, 19)}Z`;
      save();
      say(st2, '');
    } catch (e) {
      form.append(errorBox(e instanceof ApiError ? e.describe() : e.message, () => draw()), nav(form, { next: false }));
      return;
    }
    const key = await c.getKey(session.me.participant.did);
    const cred = buildCredential(ref);
    const proofOptions = {
      type: 'DataIntegrityProof',
      cryptosuite: 'eddsa-jcs-2022',
      created: st.created,
      verificationMethod: c.verificationMethod(session.me.participant.did),
      proofPurpose: 'assertionMethod',
      '@context': cred['@context'],
    };
    const docJcs = c.canonicalize(cred);
    const optJcs = c.canonicalize(proofOptions);
    const zh = summary(ref, cred, 'zh');
    const en = summary(ref, cred, 'en');
    form.append(
      h('div', { class: 'grid2 summary' },
        h('section', { lang: 'zh-CN', id: 'summary-zh', 'aria-label': '中文摘要' }, h('h3', {}, '授权内容(中文)'), zh.map((l) => h('p', {}, l))),
        h('section', { lang: 'en', id: 'summary-en', 'aria-label': 'Summary in English' }, h('h3', {}, 'What you authorize (English)'), en.map((l) => h('p', {}, l)))),
      h('h3', {}, T('这正是您要签名的内容', 'This is exactly what you sign')),
      h('p', { class: 'hint' }, T(
        '签名对象是以下两段 RFC 8785 规范化 JSON 的 SHA-256 摘要(eddsa-jcs-2022):先是证明选项,后是授权凭证本身。',
        'The signature covers the SHA-256 digests of these two RFC 8785 canonical JSON texts (eddsa-jcs-2022): first the proof options, then the grant itself.',
      )),
      h('p', {}, T('授权凭证', 'The grant'), ` · SHA-256 ${c.hex(await c.sha256(c.utf8(docJcs)))}`),
      h('pre', { class: 'canonical', id: 'canonical-doc', tabindex: '0', 'aria-label': T('规范化授权凭证', 'Canonical grant') }, docJcs),
      h('p', {}, T('证明选项', 'Proof options'), ` · SHA-256 ${c.hex(await c.sha256(c.utf8(optJcs)))}`),
      h('pre', { class: 'canonical', id: 'canonical-proof', tabindex: '0', 'aria-label': T('规范化证明选项', 'Canonical proof options') }, optJcs),
    );
    if (!key) form.append(h('p', { class: 'alert' }, T('本浏览器中没有您登录所用的密钥,无法签名。', 'The key you signed in with is not in this browser: you cannot sign here.')));
    const signBtn = h('button', { type: 'button', class: 'primary', id: 'sign-btn', disabled: !key }, st.signed ? T('重新提交已签名的授权', 'Submit the signed grant again') : T('签名并提交', 'Sign and submit'));
    form.append(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', id: 'wizard-back', onclick: () => go(3) }, T('上一步', 'Back')), signBtn), st2);

    const submit = async () => {
      say(st2, T('正在提交…', 'Submitting…'));
      clear(problems);
      try {
        if (st.request) {
          const r = await post(`/portal/api/consent-requests/${encodeURIComponent(st.request.id)}/accept`, { body: st.signed });
          st.result = r.grant;
          st.answered = r.consentRequest;
        } else {
          st.result = await post('/portal/api/grants', { body: st.signed });
        }
        save();
        go(5);
      } catch (e) {
        say(st2, '');
        if (!(e instanceof ApiError) || e.status === 0 || e.status >= 500) {
          problems.append(errorBox(e instanceof ApiError ? e.describe() : e.message, submit));
          return;
        }
        if (e.reasons.some((r) => r.code === 'status-slot') || e.status === 409) {
          st.slot = null;
          st.grantId = null;
          changed();
        }
        const placed = {};
        let first = null;
        for (const r of e.reasons) {
          const place = REASON_PLACE[r.code];
          if (place) {
            placed[place[1]] = placed[place[1]] ? `${placed[place[1]]}; ${r.message}` : r.message;
            if (first === null || place[0] < first) first = place[0];
          }
        }
        st.errors = {};
        save();
        problems.append(
          h('div', { class: 'alert', role: 'alert', id: 'submit-error' },
            h('p', {}, `${T('节点拒绝了该授权', 'The node refused the grant')}: ${e.describe()}`),
            first !== null ? h('button', { type: 'button', class: 'secondary', onclick: () => go(first, placed) }, T(`前往第 ${first + 1} 步修改`, `Fix it in step ${first + 1}`)) : null,
            st.slot === null ? h('button', { type: 'button', class: 'secondary retry', onclick: () => draw() }, T('重试', 'Retry')) : null),
        );
      }
    };

    signBtn.addEventListener('click', async () => {
      if (st.signed) {
        submit();
        return;
      }
      const ok = await confirmDialog({
        title: T('确认签名?', 'Sign this grant?'),
        body: [T('签名即表示您确认上述全部条款和所接受的授权书。', 'By signing you confirm every term above and the letters you accepted.'), h('p', { class: 'mono' }, st.grantId)],
        confirm: T('签名', 'Sign'),
      });
      if (!ok) {
        say(st2, T('已取消签名,内容均已保留。', 'Signing cancelled; everything is kept.'));
        return;
      }
      try {
        const signed = await c.createProof(cred, key, st.created);
        await c.verifyProof(signed);
        st.signed = `${JSON.stringify(signed, null, 2)}\n`;
        save();
      } catch (e) {
        say(st2, `${T('签名失败', 'Signing failed')}: ${e.message}`, 'bad');
        return;
      }
      signBtn.textContent = T('重新提交已签名的授权', 'Submit the signed grant again');
      await submit();
    });
  }

  function stepDone(form) {
    const r = st.result;
    form.append(
      h('h2', {}, T('授权已提交', 'The grant is in force')),
      h('p', { class: 'status ok', id: 'grant-done' }, T('节点已验证并登记该授权:', 'The node verified and recorded the grant: '), h('code', { id: 'grant-id' }, r.id)),
      h('p', {}, `${T('状态', 'State')}: ${r.state} · ${T('日志序号', 'Log index')} ${r.logIndex} · SHA-256 ${r.sha256}`),
      st.answered
        ? h('p', { class: 'status ok', id: 'request-signed', 'data-request': st.answered.id }, T(`已答复授权请求 ${st.answered.id},请求方已收到通知。`, `Consent request ${st.answered.id} is answered; the requester has been told.`))
        : null,
      h('div', { class: 'actions' },
        h('a', { class: 'button secondary', href: `#/grant/${encodeURIComponent(r.id)}` }, T('查看与下载', 'View and download')),
        h('a', { class: 'button primary', href: '#/wizard/new', id: 'wizard-again' }, T('再签一份', 'Sign another'))),
    );
    sessionStorage.removeItem(KEY);
  }

  if (st.result) st.step = 5;
  await draw();
}
