// The public 苏信码 page (spec/evaluation.md §6): what the node says may be shown, and, when an
// evaluation is shown, its CreditEvaluation credential verified here — the node's eddsa-jcs-2022
// signature, the validity period and the revocation bit in the node's signed status list.
// Nothing of the evaluation is shown unless the node sends it, which it does only while the
// enterprise authorizes the display and the evaluation is neither withdrawn nor expired.

import * as c from './crypto.js';

const main = document.getElementById('main');

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const ch of children.flat()) e.append(ch instanceof Node ? ch : document.createTextNode(String(ch)));
  return e;
}

function done(display) {
  document.body.dataset.display = display;
  document.body.dataset.ready = '1';
}

async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  const text = await r.text();
  let body = null;
  try { body = c.parseJson(text); } catch { body = null; }
  return { status: r.status, body };
}

/** The bit at `index` of a BitstringStatusListCredential, after verifying it was signed by `did`. */
async function statusBit(entry, did) {
  const { status, body } = await getJson(entry.statusListCredential);
  if (status !== 200) throw new Error(`status list: HTTP ${status}`);
  const signer = await c.verifyProof(body);
  if (signer !== did) throw new Error('status list not signed by the node');
  if (body.credentialSubject?.statusPurpose !== entry.statusPurpose) throw new Error('status list of another purpose');
  const encoded = body.credentialSubject.encodedList;
  if (typeof encoded !== 'string' || !encoded.startsWith('u')) throw new Error('encodedList');
  const gz = c.fromBase64url(encoded.slice(1));
  const bits = new Uint8Array(await new Response(new Blob([gz]).stream().pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
  const index = Number(entry.statusListIndex);
  if (!Number.isSafeInteger(index) || index < 0 || index >= bits.length * 8) throw new Error('status index out of range');
  return (bits[index >> 3] >> (7 - (index & 7))) & 1;
}

function row(label, value, cls = '') {
  return el('tr', {}, el('th', {}, label), el('td', cls ? { class: cls } : {}, value));
}

async function show() {
  const uscc = decodeURIComponent(location.pathname.split('/')[2] || '');
  const { status, body } = await getJson(`/v1/public/sxm/${encodeURIComponent(uscc)}`);
  main.replaceChildren();
  if (status === 404 || status === 400) {
    main.append(
      el('h1', {}, '未找到该企业 · Enterprise not found'),
      el('p', { class: 'bad', id: 'sxm-message' }, status === 404 ? `本节点没有统一社会信用代码为 ${uscc} 的企业。No enterprise with code ${uscc} on this node.` : `${uscc} 不是有效的统一社会信用代码。${uscc} is not a valid Unified Social Credit Code.`),
    );
    return done(status === 404 ? 'unknown-enterprise' : 'invalid-code');
  }
  if (status !== 200 || !body) {
    main.append(el('p', { class: 'bad' }, `暂时无法读取 (HTTP ${status})。Cannot read it now.`));
    return done('unavailable');
  }
  main.append(el('h1', {}, `${body.enterprise.name}`), el('p', { class: 'mono' }, body.enterprise.uscc));
  if (body.display !== 'shown' || !body.evaluation) {
    main.append(
      el('p', { id: 'sxm-message', class: 'warn' }, body.messageZh, el('br'), body.messageEn),
      el('p', {}, '本页不展示任何评价内容。Nothing of an evaluation is shown.'),
    );
    return done(body.display);
  }
  const vc = body.evaluation;
  const s = vc.credentialSubject;
  const node = await getJson('/v1/node');
  const checks = [];
  let ok = true;
  try {
    const signer = await c.verifyProof(vc);
    if (signer !== node.body?.did || vc.issuer !== signer) throw new Error('not issued by this node');
    if (s.enterprise?.uscc !== body.enterprise.uscc) throw new Error('another enterprise');
    checks.push(['✓', '签名有效,由本节点签发 · Signature valid, issued by this node']);
  } catch (e) {
    ok = false;
    checks.push(['✗', `签名无效 · Signature invalid: ${e.message}`]);
  }
  const now = Date.now();
  if (Date.parse(vc.validFrom) <= now && now < Date.parse(vc.validUntil)) {
    checks.push(['✓', `在有效期内 · Valid until ${vc.validUntil}`]);
  } else {
    ok = false;
    checks.push(['✗', `不在有效期内 · Not valid now (${vc.validFrom} – ${vc.validUntil})`]);
  }
  try {
    const bit = await statusBit(vc.credentialStatus, node.body?.did);
    if (bit) throw new Error('withdrawn');
    checks.push(['✓', '未被撤回(状态列表已核验)· Not withdrawn (status list verified)']);
  } catch (e) {
    ok = false;
    checks.push(['✗', `状态核验失败 · Status check failed: ${e.message}`]);
  }
  if (!ok) {
    main.append(el('p', { id: 'sxm-message', class: 'bad' }, '评价凭证核验未通过,不予展示。The evaluation credential did not verify and is not shown.'),
      el('ul', {}, checks.map(([m, t]) => el('li', {}, `${m} ${t}`))));
    return done('not-verified');
  }
  main.append(
    el('section', { class: 'card', id: 'sxm-evaluation' },
      el('p', {}, '信用评价等级 · Credit grade'),
      el('p', { class: 'grade', id: 'sxm-grade' }, s.grade),
      el('table', {},
        row('评分 Score', `${s.score} / 100`),
        row('模型 Model', `${s.modelId} v${s.modelVersion}`),
        row('评价日期 Evaluated on', s.evaluatedOn),
        row('有效期至 Valid until', vc.validUntil),
        row('凭证 Credential', vc.id, 'mono')),
      el('h2', {}, '关键指标 · Key indicators'),
      el('table', {}, s.keyIndicators.map((k) => row(k.indicator, `${k.value === null ? '—' : JSON.stringify(k.value)} → ${k.points}`))),
      el('h2', {}, '核验 · Verification'),
      el('ul', { id: 'sxm-checks' }, checks.map(([m, t]) => el('li', { class: 'ok' }, `${m} ${t}`))),
    ),
    el('section', { class: 'card' },
      el('h2', {}, '苏信码'),
      el('img', { id: 'sxm-qr', src: `/sxm/${encodeURIComponent(body.enterprise.uscc)}/qr.svg`, alt: `苏信码 ${body.page}`, width: '240', height: '240' }),
      el('p', { class: 'mono' }, body.page)),
  );
  return done('shown');
}

show().catch((e) => {
  main.replaceChildren(el('p', { class: 'bad' }, `出错 · Error: ${e.message}`));
  done('error');
});
