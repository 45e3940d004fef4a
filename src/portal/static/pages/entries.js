// Access-log entries as people read them, each with its verification mark computed in this page:
// "已验证 verified" only when the leaf, the record commitment, the node-signed checkpoint, its origin
// and the inclusion proof all check out; "验证失败 verification failed" otherwise.

import { T, both, fmtTime } from '../i18n.js';
import { h, clear } from '../ui.js';
import { getTextWhenReady, nodeInfo } from '../api.js';
import { logKey, verifyEntry } from '../verify.js';

export const KINDS = {
  release: ['数据放行', 'Data released'],
  refusal: ['请求被拒', 'Request refused'],
  'grant-submitted': ['授权提交', 'Grant submitted'],
  'grant-revoked': ['授权撤销', 'Grant revoked'],
  'grant-suspended': ['授权暂停', 'Grant suspended'],
  'grant-resumed': ['授权恢复', 'Grant resumed'],
  objection: ['异议', 'Objection'],
  'onward-release': ['转授放行', 'Onward release'],
  participant: ['参与方变更', 'Participant change'],
  'evaluation-withdrawn': ['信用评价撤回', 'Evaluation withdrawn'],
  'public-display': ['苏信码公示授权', 'Public display (苏信码)'],
  'loan-report': ['银行反馈融资结果', 'Loan outcome reported by a bank'],
};

const STEP_NAMES = {
  leaf: ['叶子序号', 'Leaf index'],
  commitment: ['记录承诺(盐值+规范化记录)', 'Record commitment (salt + canonical record)'],
  'grant-digest': ['授权摘要', 'Grant digest'],
  'receipt-index': ['收据序号', 'Receipt index'],
  'checkpoint-signature': ['检查点签名(节点密钥)', 'Checkpoint signature (node key)'],
  'platform-checkpoint-signature': ['检查点签名(平台密钥)', 'Checkpoint signature (platform key)'],
  origin: ['日志来源', 'Log origin'],
  inclusion: ['包含证明(RFC 9162)', 'Inclusion proof (RFC 9162)'],
  parse: ['解析', 'Parsing'],
  receipt: ['收据', 'Receipt'],
  note: ['签名笔记', 'Signed note'],
  checkpoint: ['检查点', 'Checkpoint'],
};

export function kindLabel(kind) {
  const k = KINDS[kind];
  return k ? T(k[0], k[1]) : kind;
}

export function markPending() {
  return h('span', { class: 'mark pending', 'data-verified': 'pending' }, T('验证中…', 'Verifying…'));
}

export function markFor(result) {
  return result.ok
    ? h('span', { class: 'mark ok', 'data-verified': 'true' }, `✓ ${both('已验证', 'verified')}`)
    : h('span', { class: 'mark bad', 'data-verified': 'false' }, `✗ ${both('验证失败', 'verification failed')}`);
}

/** One line about who did what, from the record. */
export function describe(entry) {
  const r = entry.record || {};
  const parts = [];
  if (r.caller) parts.push(`${T('调用方', 'by')} ${r.caller.uscc} (${r.caller.role})`);
  if (r.platform) parts.push(`${T('平台', 'platform')} ${r.platform}`);
  if (r.bank) parts.push(`${T('银行', 'bank')} ${r.bank}`);
  if (r.categories?.length) parts.push(r.categories.map((c) => `${c.code}/${c.granularity}`).join(', '));
  if (r.purpose) parts.push(`${T('用途', 'purpose')} ${r.purpose}`);
  if (r.decision) parts.push(`${T('结果', 'decision')} ${r.decision}`);
  if (r.reasons?.length) parts.push(r.reasons.map((x) => x.code).join(', '));
  if (r.detail?.participant) parts.push(`${r.detail.participant.name} (${r.detail.participant.uscc})`);
  if (r.detail?.objection) parts.push(`${T('异议', 'objection')} ${r.detail.objection}`);
  if (!entry.record) parts.push(T('记录已删除或不可见', 'record erased or not visible'));
  return parts.join(' · ');
}

/** The verification steps, one per line. */
export function stepsList(result) {
  return h(
    'ul',
    { class: 'steps-result' },
    result.steps.map((s) =>
      h('li', { class: s.ok ? 'ok' : 'bad' }, `${s.ok ? '✓' : '✗'} ${T(...(STEP_NAMES[s.id] || [s.id, s.id]))}`, s.detail ? h('span', { class: 'mono muted' }, ` ${s.detail}`) : null),
    ),
  );
}

/** Verifies an entry (fetching its receipt); the receipt text is returned with the result. */
export async function verifyOne(entry) {
  const key = logKey(await nodeInfo());
  let receipt;
  try {
    receipt = await getTextWhenReady(`/v1/log/receipts/${entry.index}`, { tries: 15 });
  } catch (e) {
    return { ok: false, steps: [{ id: 'receipt', ok: false, detail: e.message }], receipt: null };
  }
  const result = await verifyEntry(entry, receipt, key);
  return { ...result, receipt };
}

/** Verifies entries a few at a time, calling `done(entry, result)` for each. */
export async function verifyAll(entries, done, width = 4) {
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const e = entries[next++];
      done(e, await verifyOne(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, entries.length) }, worker));
}

/** An entry as a list item with its mark; `details` opens the verification steps. */
export function entryItem(entry, { link } = {}) {
  const mark = h('span', { class: 'mark-slot' }, markPending());
  const steps = h('div', { class: 'steps-box' });
  const item = h(
    'li',
    { class: `entry kind-${entry.kind}`, 'data-index': String(entry.index), 'data-kind': entry.kind },
    h('div', { class: 'entry-head' },
      h('span', { class: 'entry-kind' }, kindLabel(entry.kind)),
      ' ',
      link ? h('a', { href: link }, `#${entry.index}`) : h('span', { class: 'mono' }, `#${entry.index}`),
      ' ',
      h('time', { datetime: entry.time }, fmtTime(entry.time)),
      ' ',
      mark),
    h('p', { class: 'entry-desc' }, describe(entry)),
    entry.record?.grant ? h('p', { class: 'mono muted small' }, entry.record.grant.id) : null,
    h('details', {}, h('summary', {}, T('验证详情', 'Verification details')), steps),
  );
  item.show = (result) => {
    clear(mark, markFor(result));
    clear(steps, stepsList(result));
  };
  return item;
}
