// The regulator's explorer across two hops (spec/portal.md `#/chain`, spec/access-log.md §8.7): a
// release to a bank is an `onward-release` entry in its platform's log whose `upstream` cites the
// node's `release` entry. This page reads the platform's log directly (the platform serves
// `/v1/log/*` with CORS; the node's page policy lets it connect to the active platforms' endpoints),
// authenticating with a client assertion signed in this browser by the regulator's key, and checks
// both hops here: the platform's DID is the key the node registered for that platform; each platform
// entry against the platform's signed checkpoint; its upstream node entry (read through the portal)
// against the node's; and that the two agree (enterprise, grant, platform, bank, categories, time).
// Nothing is taken on the node's or the platform's word.

import { T, fmtTime } from '../i18n.js';
import { h, clear, field, setFieldError, clearFieldErrors, focusFirstError, errorBox, statusLine, say } from '../ui.js';
import { ApiError, get, nodeInfo, session } from '../api.js';
import * as c from '../crypto.js';
import { decodeLeaf, logKey, verifyEntry } from '../verify.js';
import { usccProblem } from '../uscc.js';
import { describe, kindLabel, markFor, markPending, stepsList, verifyOne } from './entries.js';

/** GET from the platform (another origin): JSON or text, never a cookie. */
async function platformGet(base, pathAndQuery, { token, tries = 1 } = {}) {
  for (let i = 0; ; i++) {
    let resp;
    try {
      resp = await fetch(`${base}${pathAndQuery}`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        credentials: 'omit',
        cache: 'no-store',
        redirect: 'error',
        mode: 'cors',
      });
    } catch {
      throw new ApiError(0, null);
    }
    const ct = resp.headers.get('content-type') || '';
    const body = ct.includes('json') ? c.parseJson(await resp.text()) : await resp.text();
    if (resp.ok) return body;
    const retry = resp.headers.get('retry-after');
    if (resp.status === 404 && retry && i + 1 < tries) {
      await new Promise((r) => setTimeout(r, Math.max(500, Number(retry) * 1000)));
      continue;
    }
    throw new ApiError(resp.status, body, retry);
  }
}

const AGREE = {
  kinds: ['类型:节点放行 → 平台转授放行', 'Kinds: node release → platform onward release'],
  upstream: ['上游引用:节点日志来源、序号与叶子哈希', 'Upstream: the node log\'s origin, index and leaf hash'],
  enterprise: ['同一企业', 'Same enterprise'],
  grant: ['同一授权(编号与摘要)', 'Same grant (id and digest)'],
  platform: ['节点放行给该平台', 'The node released to this platform'],
  bank: ['为同一银行', 'For the same bank'],
  categories: ['平台转授的类别均为节点放行的类别', 'Every category passed on was released by the node'],
  time: ['节点记录不晚于平台记录', 'The node entry is not later than the platform\'s'],
};

const same = (a, b) => a !== undefined && a !== null && JSON.stringify(a) === JSON.stringify(b);

/** The agreement checks between the platform's entry `p` and the node's entry `n` it cites. */
function agreement(p, n, platformUscc, nodeOrigin) {
  const up = p.record?.upstream || {};
  const pr = p.record || {};
  const nr = n?.record || {};
  const released = (nr.categories || []).map((x) => x.code);
  const pLeaf = decodeLeaf(c.fromBase64(p.leaf));
  const nLeaf = n ? decodeLeaf(c.fromBase64(n.leaf)) : null;
  return [
    ['kinds', !!n && p.kind === 'onward-release' && n.kind === 'release'],
    ['upstream', !!n && up.origin === nodeOrigin && up.index === n.index && up.leafHash === n.leafHash],
    ['enterprise', same(pr.enterprise, nr.enterprise)],
    ['grant', same(pr.grant, nr.grant)],
    ['platform', pr.platform === platformUscc && nr.platform === platformUscc],
    ['bank', !!pr.bank && pr.bank === nr.bank],
    ['categories', (pr.categories || []).every((x) => released.includes(x.code))],
    ['time', !!nLeaf && nLeaf.timeMs <= pLeaf.timeMs],
  ].map(([id, ok]) => ({ id, ok }));
}

function agreementList(checks) {
  return h('ul', { class: 'steps-result agreement' }, checks.map((x) => h('li', { class: x.ok ? 'ok' : 'bad', 'data-check': x.id }, `${x.ok ? '✓' : '✗'} ${T(...AGREE[x.id])}`)));
}

/** One chain: the platform's entry, the node's entry it cites, and whether they agree. */
function chainItem(p, platform) {
  const pMark = h('span', { class: 'mark-slot', 'data-hop': 'platform' }, markPending());
  const nMark = h('span', { class: 'mark-slot', 'data-hop': 'node' }, markPending());
  const chainMark = h('span', { class: 'mark-slot', 'data-hop': 'chain' }, markPending());
  const pSteps = h('div');
  const nSteps = h('div');
  const agree = h('div');
  const up = p.record?.upstream;
  const nodeLink = up ? h('a', { href: `#/entry/${up.index}`, 'data-node-entry': String(up.index) }, `#${up.index}`) : T('无', 'none');
  const item = h('li', { class: 'card chain', 'data-platform-index': String(p.index), 'data-node-index': up ? String(up.index) : '' },
    h('div', { class: 'entry-head' }, T('访问链', 'Chain'), ' ', chainMark),
    h('section', { class: 'hop' },
      h('h3', {}, T(`平台 ${platform.name} 的日志 #${p.index}`, `Platform ${platform.name}'s log #${p.index}`), ' ', pMark),
      h('p', { class: 'entry-desc' }, kindLabel(p.kind), ' · ', h('time', { datetime: p.time }, fmtTime(p.time)), ' · ', describe(p)),
      h('details', {}, h('summary', {}, T('验证详情', 'Verification details')), pSteps)),
    h('section', { class: 'hop' },
      h('h3', {}, T('节点日志 ', 'The node\'s log '), nodeLink, ' ', nMark),
      h('p', { class: 'entry-desc node-desc' }),
      h('details', {}, h('summary', {}, T('验证详情', 'Verification details')), nSteps)),
    h('section', { class: 'hop' }, h('h3', {}, T('两跳一致', 'The two hops agree')), agree));
  item.show = ({ pResult, nEntry, nResult, checks }) => {
    clear(pMark, markFor(pResult));
    clear(pSteps, stepsList(pResult));
    if (nEntry) item.querySelector('.node-desc').append(kindLabel(nEntry.kind), ' · ', h('time', { datetime: nEntry.time }, fmtTime(nEntry.time)), ' · ', describe(nEntry));
    clear(nMark, markFor(nResult));
    clear(nSteps, stepsList(nResult));
    clear(agree, agreementList(checks));
    const ok = pResult.ok && nResult.ok && checks.every((x) => x.ok);
    clear(chainMark, markFor({ ok }));
    item.dataset.verified = String(ok);
  };
  return item;
}

/** Checks one platform entry and the node entry it cites. */
async function checkOne(p, base, platformKey, platform, node) {
  let pResult;
  try {
    const receipt = await platformGet(base, `/v1/log/receipts/${p.index}`, { tries: 15 });
    pResult = await verifyEntry(p, receipt, platformKey);
    // The checkpoint is the platform's, signed with its key (the node's key signs the other hop).
    pResult.steps = pResult.steps.map((x) => (x.id === 'checkpoint-signature' ? { ...x, id: 'platform-checkpoint-signature' } : x));
  } catch (e) {
    pResult = { ok: false, steps: [{ id: 'receipt', ok: false, detail: e.message }] };
  }
  const up = p.record?.upstream;
  let nEntry = null;
  let nResult = { ok: false, steps: [{ id: 'upstream', ok: false, detail: T('平台记录没有上游引用', 'the platform entry cites no upstream entry') }] };
  if (up && Number.isInteger(up.index) && up.index >= 0) {
    const q = new URLSearchParams({ limit: '1' });
    if (up.index > 0) q.set('after', String(up.index - 1));
    const found = (await get(`/portal/api/entries?${q}`)).entries[0];
    if (found && found.index === up.index) {
      nEntry = found;
      nResult = await verifyOne(found);
    } else {
      nResult = { ok: false, steps: [{ id: 'upstream', ok: false, detail: T(`节点日志没有 #${up.index}`, `the node's log has no #${up.index}`) }] };
    }
  }
  return { pResult, nEntry, nResult, checks: agreement(p, nEntry, platform.uscc, node.logOrigin) };
}

export async function chainPage(root, params) {
  root.append(
    h('h1', {}, T('跨两跳的访问链', 'Access chains across two hops')),
    h('p', { class: 'lead' }, T('从平台日志中向银行的转授放行,沿其上游引用到节点日志中的放行,并在本浏览器中分别对照平台和节点签名的检查点验证两条记录的包含证明。', 'From a platform log\'s onward release to a bank, follow its upstream reference to the node log\'s release, and verify both entries\' inclusion proofs in this browser against the checkpoints the platform and the node signed.')),
  );
  const platforms = (await get('/portal/api/platforms')).platforms.filter((p) => p.state === 'active' && p.endpoint);
  const [chosen, scope] = [params[0] || '', new URLSearchParams(params[1] || '')];
  const sel = h('select', {}, platforms.map((p) => h('option', { value: p.uscc, selected: p.uscc === chosen }, `${p.name} ${p.uscc}`)));
  const ent = h('input', { type: 'text', class: 'mono', maxlength: '18', value: scope.get('enterprise') || '' });
  const grant = h('input', { type: 'text', class: 'mono', value: scope.get('grant') || '' });
  const st = statusLine();
  const form = h('form', { class: 'card filters-form', id: 'chain-form', novalidate: true },
    field({ id: 'chain-platform', name: 'platform', label: T('平台', 'Platform'), control: sel }),
    field({ id: 'chain-enterprise', name: 'enterprise', label: T('企业统一社会信用代码', 'Enterprise (USCC)'), control: ent }),
    field({ id: 'chain-grant', name: 'grant', label: T('或授权编号', 'or grant id'), control: grant }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'chain-go' }, T('跟踪', 'Follow'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const q = new URLSearchParams();
    const e = ent.value.trim().toUpperCase();
    const g = grant.value.trim();
    if (e) {
      const bad = usccProblem(e);
      if (bad) {
        setFieldError(form, 'enterprise', T(`统一社会信用代码无效(${bad.code})`, `Not a valid Unified Social Credit Code (${bad.code})`));
        focusFirstError(form);
        return;
      }
      q.set('enterprise', e);
    }
    if (g) q.set('grant', g);
    if (!e && !g) {
      setFieldError(form, 'enterprise', T('请填写企业或授权', 'Give an enterprise or a grant'));
      focusFirstError(form);
      return;
    }
    location.hash = `#/chain/${encodeURIComponent(sel.value)}/${encodeURIComponent(q.toString())}`;
  });
  root.append(form, st);
  if (!platforms.length) {
    root.append(h('p', { class: 'empty' }, T('没有登记了地址的在用平台。', 'No active platform with an endpoint.')));
    return;
  }
  if (!chosen || (!scope.get('enterprise') && !scope.get('grant'))) return;
  const platform = platforms.find((p) => p.uscc === chosen);
  if (!platform) throw new Error(T('没有这个平台', 'No such platform'));
  const base = platform.endpoint.replace(/\/+$/, '');

  // The platform's log key: its DID must be the key the node holds for it now.
  const info = await platformGet(base, '/v1/platform');
  const current = (platform.keys || []).filter((k) => !k.validUntil).map((k) => k.did);
  const keyOk = info.uscc === platform.uscc && current.includes(info.did);
  root.append(h('p', { id: 'platform-key', 'data-ok': String(keyOk), class: keyOk ? 'ok' : 'alert' },
    keyOk
      ? T(`平台日志 ${info.logOrigin} 由节点登记的该平台密钥签名。`, `The platform's log ${info.logOrigin} is signed with the key the node registered for it.`)
      : T('平台当前的密钥不是节点登记的密钥:不验证其日志。', 'The platform\'s key is not the one the node registered: its log is not verified.'),
    ' ', h('code', { class: 'did' }, info.did)));
  if (!keyOk) return;
  const key = await c.getKey(session.me.participant.did);
  if (!key) {
    say(st, T('本浏览器中没有您登录所用的密钥,无法向平台证明身份。', 'The key you signed in with is not in this browser: it cannot authenticate to the platform.'), 'bad');
    return;
  }
  const q = new URLSearchParams({ kind: 'onward-release', limit: '200' });
  for (const k of ['enterprise', 'grant']) if (scope.get(k)) q.set(k, scope.get(k));
  const path = `/v1/log/entries?${q}`;
  const token = await c.clientAssertion(key, info.did, 'GET', path);
  let entries;
  try {
    entries = (await platformGet(base, path, { token })).entries;
  } catch (e) {
    root.append(errorBox(e instanceof ApiError ? e.describe() : e.message));
    return;
  }
  if (!entries.length) {
    root.append(h('p', { class: 'empty', id: 'no-chains' }, T('该平台日志中没有符合条件的转授放行。', 'No onward release in the platform\'s log matches.')));
    return;
  }
  const node = await nodeInfo();
  const platformKey = logKey({ did: info.did, logOrigin: info.logOrigin });
  const items = entries.map((p) => chainItem(p, platform));
  root.append(h('ul', { class: 'plain chains' }, items));
  for (let i = 0; i < entries.length; i++) {
    items[i].show(await checkOne(entries[i], base, platformKey, platform, node));
  }
}
