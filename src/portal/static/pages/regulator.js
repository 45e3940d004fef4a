// The regulator's pages (also the node operator's): the access-chain explorer with filters, one
// entry with its receipt and verification, the checkpoint history with consistency proofs verified
// in the page, and the statistics with their two charts.

import { T, fmtTime } from '../i18n.js';
import { h, clear, field, setFieldError, clearFieldErrors, focusFirstError, statusLine, say, errorBox, table, badge } from '../ui.js';
import { ApiError, get, catalog, nodeInfo, session } from '../api.js';
import { fromBase64, fromHex, hex } from '../crypto.js';
import { decodeLeaf, logKey, parseCheckpointText, parseNote, verifyCheckpoint, verifyConsistency } from '../verify.js';
import { usccProblem } from '../uscc.js';
import { KINDS, entryItem, markFor, markPending, stepsList, verifyAll, verifyOne, kindLabel } from './entries.js';

const FILTERS = ['enterprise', 'grant', 'platform', 'bank', 'category', 'kind', 'from', 'until'];
const pad = (n) => String(n).padStart(2, '0');

function toUtc(local) {
  if (!local) return '';
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : `${d.toISOString().slice(0, 19)}Z`;
}
function toLocal(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function explorerPage(root, params) {
  const initial = new URLSearchParams(params[0] || '');
  const cat = await catalog();
  root.append(
    h('h1', {}, T('访问链查询', 'Access-chain explorer')),
    h('p', { class: 'lead' }, T('按企业、授权、平台、银行、类别与时间查询访问日志;每条记录都在本页面中验证。', 'Search the access log by enterprise, grant, platform, bank, category and time; each entry is verified in this page.')),
  );
  const form = h('form', { class: 'card filters-grid', id: 'explorer-form', novalidate: true });
  const inputs = {};
  const text = (name, zh, en, attrs = {}) => {
    inputs[name] = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs, value: initial.get(name) || '' });
    return field({ id: `f-${name}`, name, label: T(zh, en), control: inputs[name] });
  };
  inputs.category = h('select', {}, h('option', { value: '' }, T('全部', 'All')), cat.categories.map((x) => h('option', { value: x.code }, `${x.code} ${T(x.nameZh, x.nameEn)}`)));
  inputs.category.value = initial.get('category') || '';
  inputs.kind = h('select', {}, h('option', { value: '' }, T('全部', 'All')), Object.entries(KINDS).map(([k, [zh, en]]) => h('option', { value: k }, T(zh, en))));
  inputs.kind.value = initial.get('kind') || '';
  inputs.from = h('input', { type: 'datetime-local', value: initial.get('from') ? toLocal(initial.get('from')) : '' });
  inputs.until = h('input', { type: 'datetime-local', value: initial.get('until') ? toLocal(initial.get('until')) : '' });
  form.append(
    text('enterprise', '企业(统一社会信用代码)', 'Enterprise (USCC)', { class: 'mono', maxlength: '18' }),
    text('grant', '授权编号', 'Grant id', { class: 'mono', placeholder: 'urn:uuid:…' }),
    text('platform', '平台(统一社会信用代码)', 'Platform (USCC)', { class: 'mono', maxlength: '18' }),
    text('bank', '银行(统一社会信用代码)', 'Bank (USCC)', { class: 'mono', maxlength: '18' }),
    field({ id: 'f-category', name: 'category', label: T('数据类别', 'Category'), control: inputs.category }),
    field({ id: 'f-kind', name: 'kind', label: T('类型', 'Kind'), control: inputs.kind }),
    field({ id: 'f-from', name: 'from', label: T('起始时间', 'From'), control: inputs.from }),
    field({ id: 'f-until', name: 'until', label: T('截止时间', 'Until'), control: inputs.until }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'explorer-search' }, T('查询', 'Search'))),
  );
  for (const n of ['enterprise', 'platform', 'bank']) {
    inputs[n].addEventListener('input', () => {
      const v = inputs[n].value.trim();
      setFieldError(form, n, v.length >= 18 && usccProblem(v) ? T('统一社会信用代码校验不通过', 'Not a valid USCC') : '');
    });
  }
  const st = statusLine();
  const results = h('div', { id: 'explorer-results' });
  root.append(form, st, results);

  const query = () => {
    const q = new URLSearchParams();
    for (const n of FILTERS) {
      let v = inputs[n].value.trim();
      if (n === 'from' || n === 'until') v = toUtc(v);
      if (v) q.set(n, v);
    }
    return q;
  };

  const search = async (after = null) => {
    delete results.dataset.done;
    clearFieldErrors(form);
    let bad = false;
    for (const n of ['enterprise', 'platform', 'bank']) {
      const v = inputs[n].value.trim();
      if (v && usccProblem(v)) {
        setFieldError(form, n, T('统一社会信用代码校验不通过', 'Not a valid USCC'));
        bad = true;
      }
    }
    for (const n of ['from', 'until']) {
      if (inputs[n].value && toUtc(inputs[n].value) === null) {
        setFieldError(form, n, T('时间无效', 'Not a valid time'));
        bad = true;
      }
    }
    if (bad) {
      focusFirstError(form);
      return;
    }
    const q = query();
    history.replaceState(null, '', `#/explorer/${encodeURIComponent(q.toString())}`);
    q.set('limit', '200');
    if (after !== null) q.set('after', String(after));
    say(st, T('正在查询…', 'Searching…'));
    let data;
    try {
      data = await get(`/portal/api/entries?${q}`);
    } catch (e) {
      say(st, '');
      if (e instanceof ApiError && e.reasons.length) {
        let placed = false;
        for (const r of e.reasons) {
          const m = /^(from|until):/.exec(r.message);
          if (m) placed = setFieldError(form, m[1], r.message) || placed;
        }
        if (placed) {
          focusFirstError(form);
          return;
        }
      }
      clear(results, errorBox(e instanceof ApiError ? e.describe() : e.message, () => search(after)));
      return;
    }
    const items = new Map(data.entries.map((e) => [e.index, entryItem(e, { link: `#/entry/${e.index}` })]));
    const list = h('ol', { class: 'entries' }, [...items.values()]);
    if (after === null) clear(results);
    results.append(list);
    if (data.next !== null && data.next !== undefined) {
      const more = h('button', { type: 'button', class: 'secondary', onclick: () => { more.remove(); search(data.next); } }, T('更多', 'More'));
      results.append(more);
    }
    say(st, T(`找到 ${data.entries.length} 条,正在验证…`, `${data.entries.length} entries; verifying…`));
    let failed = 0;
    await verifyAll(data.entries, (e, r) => {
      if (!r.ok) failed += 1;
      items.get(e.index).show(r);
    });
    say(st, failed ? T(`${failed} 条验证失败`, `${failed} failed verification`) : T(`${data.entries.length} 条全部验证通过`, `All ${data.entries.length} verified`), failed ? 'bad' : 'ok');
    results.dataset.done = '1';
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
  if ([...initial.keys()].length) await search();
}

export async function entryPage(root, params) {
  const index = Number(params[0]);
  if (!Number.isInteger(index) || index < 0) throw new Error(T('无效的序号', 'Not an entry index'));
  const q = new URLSearchParams({ limit: '1' });
  if (index > 0) q.set('after', String(index - 1));
  const data = await get(`/portal/api/entries?${q}`);
  const e = data.entries[0];
  root.append(h('h1', {}, T(`日志记录 #${index}`, `Log entry #${index}`)));
  if (!e || e.index !== index) {
    root.append(h('p', { class: 'empty' }, T('没有这条记录。', 'No such entry.')));
    return;
  }
  const mark = h('span', { id: 'entry-mark' }, markPending());
  const steps = h('div');
  const leaf = decodeLeaf(fromBase64(e.leaf));
  const link = (i) => (i === null ? T('无', 'none') : h('a', { href: `#/entry/${i}` }, `#${i}`));
  root.append(
    h('p', {}, kindLabel(e.kind), ' · ', h('time', { datetime: e.time }, fmtTime(e.time)), ' · ', mark),
    h('h2', {}, T('验证', 'Verification')),
    steps,
    h('h2', {}, T('叶子(公开,136 字节)', 'Leaf (public, 136 bytes)')),
    h('dl', { class: 'facts' },
      h('dt', {}, T('类型', 'Kind')), h('dd', {}, leaf.kind),
      h('dt', {}, T('序号', 'Index')), h('dd', {}, String(leaf.seq)),
      h('dt', {}, T('时间', 'Time')), h('dd', {}, new Date(Number(leaf.timeMs)).toISOString()),
      h('dt', {}, T('授权摘要', 'Grant digest')), h('dd', { class: 'mono' }, leaf.grantDigest),
      h('dt', {}, T('同一授权的上一条', 'Previous on this grant')), h('dd', {}, link(leaf.prevSameGrant)),
      h('dt', {}, T('企业标签', 'Enterprise tag')), h('dd', { class: 'mono' }, leaf.subjectTag),
      h('dt', {}, T('同一企业的上一条', 'Previous on this enterprise')), h('dd', {}, link(leaf.prevSameSubject)),
      h('dt', {}, T('记录承诺', 'Record commitment')), h('dd', { class: 'mono' }, hex(leaf.recordCommitment)),
      h('dt', {}, T('叶子哈希', 'Leaf hash')), h('dd', { class: 'mono' }, e.leafHash)),
    h('h2', {}, T('记录与盐值', 'Record and salt')),
    h('p', { class: 'mono small' }, `salt ${e.salt || '—'}`),
    h('pre', { class: 'canonical', tabindex: '0' }, e.record ? JSON.stringify(e.record, null, 2) : T('(已删除)', '(erased)')),
  );
  if (e.record?.grant) {
    root.append(h('p', {}, h('a', { href: `#/explorer/${encodeURIComponent(new URLSearchParams({ grant: e.record.grant.id }).toString())}` }, T('该授权的完整访问链', 'The whole chain of this grant'))));
  }
  if (e.kind === 'release' && e.record?.platform && e.record?.bank && e.record?.grant && session.me?.participant?.role === 'regulator') {
    // The next hop: the platform's onward releases under this grant, which cite this entry.
    const q = new URLSearchParams({ grant: e.record.grant.id }).toString();
    root.append(h('p', {}, h('a', { id: 'follow-onward', href: `#/chain/${encodeURIComponent(e.record.platform)}/${encodeURIComponent(q)}` }, T('在平台日志中跟踪转授放行', 'Follow the onward release in the platform\'s log'))));
  }
  const receiptBox = h('pre', { class: 'canonical', id: 'receipt', tabindex: '0' });
  root.append(h('h2', {}, T('收据(C2SP tlog-proof)', 'Receipt (C2SP tlog-proof)')), receiptBox);
  const r = await verifyOne(e);
  clear(mark, markFor(r));
  clear(steps, stepsList(r));
  receiptBox.textContent = r.receipt || '';
}

async function allCheckpoints() {
  const out = [];
  let after = 0;
  for (let i = 0; i < 20; i++) {
    const page = (await get(`/v1/log/checkpoints?after=${after}&limit=1000`)).checkpoints;
    out.push(...page);
    if (page.length < 1000) break;
    after = page[page.length - 1].size;
  }
  return out;
}

export async function checkpointsPage(root) {
  root.append(
    h('h1', {}, T('检查点历史', 'Checkpoint history')),
    h('p', { class: 'lead' }, T(
      '每个检查点的签名都用节点密钥验证;相邻检查点之间的一致性证明(RFC 9162)也在本页面验证:日志只能追加,不能改写。',
      'Each checkpoint\'s signature is checked with the node key, and the consistency proof (RFC 9162) between consecutive checkpoints is verified in this page: the log can only grow, never be rewritten.',
    )),
  );
  const st = statusLine();
  const box = h('div', { id: 'checkpoints' });
  root.append(st, box);
  const key = logKey(await nodeInfo());
  const cps = await allCheckpoints();
  const shown = cps.slice(-60);
  say(st, T(`共 ${cps.length} 个检查点,正在验证最近 ${shown.length} 个…`, `${cps.length} checkpoints; verifying the latest ${shown.length}…`));
  const rows = [];
  let prev = null;
  let failures = 0;
  for (const cp of shown) {
    let sig;
    let parsed = null;
    try {
      parsed = await verifyCheckpoint(cp.note, key);
      sig = badge('✓', 'ok');
    } catch (e) {
      failures += 1;
      sig = badge(`✗ ${e.message}`, 'bad');
      try {
        parsed = parseCheckpointText(parseNote(cp.note).text);
      } catch {
        parsed = null;
      }
    }
    let cons = T('(第一个)', '(first shown)');
    if (prev && parsed) {
      try {
        const p = await get(`/v1/log/proof/consistency?from=${prev.size}&to=${parsed.size}`);
        const ok = await verifyConsistency(prev.size, parsed.size, prev.root, parsed.root, p.proof.map(fromHex));
        if (!ok) failures += 1;
        cons = ok ? badge(`✓ ${prev.size} → ${parsed.size}`, 'ok') : badge(`✗ ${prev.size} → ${parsed.size}`, 'bad');
      } catch (e) {
        failures += 1;
        cons = badge(`✗ ${e.message}`, 'bad');
      }
    }
    rows.push([String(cp.size), fmtTime(cp.createdAt), parsed ? h('code', { class: 'small' }, hex(parsed.root).slice(0, 16)) : '—', sig, cons]);
    if (parsed) prev = parsed;
  }
  rows.reverse();
  clear(box, table([T('大小', 'Size'), T('时间', 'Created'), T('根哈希', 'Root'), T('签名', 'Signature'), T('与前一个一致', 'Consistent with previous')], rows, { cls: 'checkpoints' }));
  say(st, failures ? T(`${failures} 项检查失败!`, `${failures} checks failed!`) : T(`最近 ${shown.length} 个检查点的签名与一致性全部通过。`, `Signatures and consistency of the latest ${shown.length} checkpoints all verified.`), failures ? 'bad' : 'ok');
  box.dataset.done = failures ? 'failed' : 'ok';
}

export async function statsPage(root) {
  const s = await get('/portal/api/stats');
  const stamp = Date.now();
  root.append(
    h('h1', {}, T('统计', 'Statistics')),
    h('div', { class: 'charts' },
      h('figure', {}, h('img', { src: `/portal/api/charts/per-day.svg?t=${stamp}`, alt: T('每日放行与拒绝(下表有相同数据)', 'Releases and refusals per day (the table below has the same figures)'), id: 'chart-per-day' }), h('figcaption', {}, T('近 30 天每日放行与拒绝', 'Releases and refusals per day, last 30 days'))),
      h('figure', {}, h('img', { src: `/portal/api/charts/per-platform.svg?t=${stamp}`, alt: T('各平台放行与拒绝(下表有相同数据)', 'Releases and refusals per platform (the table below has the same figures)'), id: 'chart-per-platform' }), h('figcaption', {}, T('各平台放行与拒绝', 'Releases and refusals per platform'))),
      h('figure', {}, h('img', { src: `/portal/api/charts/loans-by-region.svg?t=${stamp}`, alt: T('各设区市贷款审批与首贷(下表有相同数据)', 'Approvals and first loans by city (the table below has the same figures)'), id: 'chart-loans-by-region' }), h('figcaption', {}, T('各设区市贷款审批与首贷(近12个月)', 'Approvals and first loans by city, last 12 months')))),
    h('h2', {}, T('参与方', 'Participants')),
    table([T('角色', 'Role'), T('状态', 'State'), T('数量', 'Count')], s.participants.map((p) => [p.role, p.state, String(p.count)]), { cls: 'stats' }),
    h('h2', {}, T('授权', 'Grants')),
    table([T('状态', 'State'), T('数量', 'Count')], [...s.grants.map((g) => [g.state, String(g.count)]), [T('已过期', 'expired'), String(s.expiredGrants)]], { cls: 'stats' }),
    h('h2', {}, T('各平台', 'Per platform')),
    table([T('平台', 'Platform'), T('放行', 'Releases'), T('拒绝', 'Refusals')], Object.entries(s.perPlatform).map(([p, v]) => [p, String(v.releases), String(v.refusals)]), { cls: 'stats', caption: T('各平台放行与拒绝', 'Releases and refusals per platform') }),
    h('h2', {}, T('融资（按设区市，近12个月）', 'Financing by city, last 12 months')),
    table([T('设区市', 'City'), T('申请', 'Applications'), T('审批', 'Approvals'), T('审批金额(元)', 'Approved (yuan)'), T('信用贷款占比', 'Credit-loan share'), T('首贷', 'First loans'), T('贷款余额(元)', 'Balance (yuan)')],
      s.loansByRegion.rows.map((r) => [`${r.regionName} ${r.region}`, String(r.applications), String(r.approvals), String(r.approvedAmount), r.creditShare === null ? '—' : String(r.creditShare), String(r.firstLoans), String(r.balance)]),
      { cls: 'stats', caption: T('来自银行反馈的融资结果', 'From the loan outcomes banks reported') }),
    h('h2', {}, T('每日', 'Per day')),
    table([T('日期', 'Date'), T('放行', 'Releases'), T('拒绝', 'Refusals')], s.perDay.filter((d) => d.releases || d.refusals).map((d) => [d.date, String(d.releases), String(d.refusals)]), { cls: 'stats', caption: T('有记录的日期', 'Days with entries') }),
  );
}

