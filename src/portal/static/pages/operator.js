// The node operator's pages: pending enterprise registrations (approve / reject), platforms (admit,
// suspend, reactivate, remove) with each platform's banks. Regulators see the platform list read-only.

import { T, fmtTime } from '../i18n.js';
import { h, clear, field, setFieldError, clearFieldErrors, focusFirstError, confirmDialog, statusLine, say, errorBox, badge, table, newId } from '../ui.js';
import { ApiError, get, post, session } from '../api.js';
import { usccProblem } from '../uscc.js';
import { publicKeyOfDid } from '../crypto.js';

export async function registrationsPage(root, _p, app) {
  root.append(h('h1', {}, T('企业注册审核', 'Enterprise registrations')));
  const st = statusLine();
  const regs = (await get('/portal/api/registrations')).registrations;
  root.append(
    h('p', { class: 'lead' }, T('请在线下核实企业身份后再批准。批准即由节点签发身份凭证,证明该密钥属于该企业。', 'Check the enterprise\'s identity offline before approving. Approval makes the node issue an identity credential: the node vouches that the key belongs to the enterprise.')),
    st,
  );
  if (!regs.length) {
    root.append(h('p', { class: 'empty', id: 'no-registrations' }, T('没有待审核的注册。', 'No registration is waiting.')));
    return;
  }
  root.append(
    h(
      'ul',
      { class: 'plain' },
      regs.map((r) =>
        h(
          'li',
          { class: 'card registration', 'data-uscc': r.uscc },
          h('h2', {}, `${r.name} `, h('span', { class: 'mono muted' }, r.uscc)),
          h('p', { class: 'muted' }, `${T('提交于', 'Submitted')} ${fmtTime(r.createdAt)}`),
          h('p', {}, T('密钥', 'Key'), ': ', h('code', { class: 'did' }, r.keys.map((k) => k.did).join(', '))),
          h(
            'div',
            { class: 'actions' },
            ['approve', 'reject'].map((d) =>
              h('button', {
                type: 'button',
                class: d === 'approve' ? 'primary' : 'danger',
                'data-decision': d,
                onclick: async () => {
                  const ok = await confirmDialog({
                    title: d === 'approve' ? T(`批准 ${r.name}?`, `Approve ${r.name}?`) : T(`拒绝 ${r.name}?`, `Reject ${r.name}?`),
                    body: [d === 'approve' ? T('批准后该企业即可签署授权。', 'Once approved it can sign grants.') : T('拒绝是最终的。', 'Rejection is final.'), h('p', { class: 'mono' }, r.uscc)],
                    confirm: d === 'approve' ? T('批准', 'Approve') : T('拒绝', 'Reject'),
                    danger: d === 'reject',
                  });
                  if (!ok) return;
                  try {
                    const res = await post(`/portal/api/registrations/${encodeURIComponent(r.uscc)}/${d}`);
                    say(st, T(`${r.uscc} 现为 ${res.state}。`, `${r.uscc} is now ${res.state}.`), 'ok');
                    app.render();
                  } catch (e) {
                    clear(st, errorBox(e instanceof ApiError ? e.describe() : e.message));
                  }
                },
              }, d === 'approve' ? T('批准', 'Approve') : T('拒绝', 'Reject')),
            ),
          ),
        ),
      ),
    ),
  );
}

const STATE_LABEL = { active: ['正常', 'active'], suspended: ['已暂停', 'suspended'], removed: ['已移除', 'removed'] };

export async function platformsPage(root, _p, app) {
  const operator = session.me.participant.role === 'node';
  root.append(h('h1', {}, operator ? T('平台管理', 'Platforms') : T('平台与银行', 'Platforms and banks')));
  const st = statusLine();
  const list = (await get('/portal/api/platforms')).platforms;
  root.append(st);
  const setState = async (p, state) => {
    const ok = await confirmDialog({
      title: {
        active: T(`恢复 ${p.name}?`, `Reactivate ${p.name}?`),
        suspended: T(`暂停 ${p.name}?`, `Suspend ${p.name}?`),
        removed: T(`移除 ${p.name}?`, `Remove ${p.name}?`),
      }[state],
      body: state === 'removed' ? [T('移除是最终的:所有以该平台为接收方的有效授权都会被暂停,并通知相关企业。', 'Removal is final: every active grant naming this platform is suspended and each enterprise is told.')] : [h('p', { class: 'mono' }, p.uscc)],
      confirm: T(...({ active: ['恢复', 'Reactivate'], suspended: ['暂停', 'Suspend'], removed: ['移除', 'Remove'] }[state])),
      danger: state !== 'active',
    });
    if (!ok) return;
    try {
      const r = await post(`/portal/api/platforms/${encodeURIComponent(p.uscc)}/state`, { json: { state } });
      say(st, T(`${p.uscc} 现为 ${r.state};暂停授权 ${r.suspendedGrants} 个。`, `${p.uscc} is now ${r.state}; ${r.suspendedGrants} grant(s) suspended.`), 'ok');
      app.render();
    } catch (e) {
      clear(st, errorBox(e instanceof ApiError ? e.describe() : e.message));
    }
  };
  root.append(
    list.length
      ? h(
          'ul',
          { class: 'plain' },
          list.map((p) =>
            h(
              'li',
              { class: 'card platform', 'data-uscc': p.uscc, 'data-state': p.state },
              h('h2', {}, `${p.name} `, h('span', { class: 'mono muted' }, p.uscc), ' ', badge(T(...(STATE_LABEL[p.state] || [p.state, p.state])), p.state === 'active' ? 'ok' : 'bad')),
              h('p', { class: 'muted' }, `${p.endpoint || ''} · ${T('接纳于', 'admitted')} ${fmtTime(p.createdAt)}`),
              p.banks.length
                ? table([T('银行', 'Bank'), T('统一社会信用代码', 'USCC'), T('状态', 'State')], p.banks.map((b) => [b.name, h('span', { class: 'mono' }, b.uscc), b.state]), { caption: T(`${p.name} 的银行`, `Banks of ${p.name}`), cls: 'banks' })
                : h('p', { class: 'muted' }, T('尚未登记银行。', 'No bank registered yet.')),
              operator && p.state !== 'removed'
                ? h(
                    'div',
                    { class: 'actions' },
                    p.state === 'active'
                      ? h('button', { type: 'button', class: 'secondary', 'data-set-state': 'suspended', onclick: () => setState(p, 'suspended') }, T('暂停', 'Suspend'))
                      : h('button', { type: 'button', class: 'secondary', 'data-set-state': 'active', onclick: () => setState(p, 'active') }, T('恢复', 'Reactivate')),
                    h('button', { type: 'button', class: 'danger', 'data-set-state': 'removed', onclick: () => setState(p, 'removed') }, T('移除', 'Remove')),
                  )
                : null,
            ),
          ),
        )
      : h('p', { class: 'empty' }, T('尚未接纳平台。', 'No platform admitted yet.')),
  );
  if (operator) root.append(admitForm(app));
}

function admitForm(app) {
  const form = h('form', { class: 'card', id: 'admit-form', novalidate: true });
  const uscc = h('input', { type: 'text', class: 'mono', maxlength: '18', autocomplete: 'off' });
  const name = h('input', { type: 'text', autocomplete: 'off' });
  const did = h('input', { type: 'text', class: 'mono', autocomplete: 'off', placeholder: 'did:key:z6Mk…' });
  const endpoint = h('input', { type: 'url', autocomplete: 'off', placeholder: 'https://platform.example' });
  const st = statusLine();
  uscc.addEventListener('input', () => setFieldError(form, 'uscc', uscc.value.length >= 18 && usccProblem(uscc.value) ? T('统一社会信用代码校验不通过', 'Not a valid USCC') : ''));
  form.append(
    h('h2', {}, T('接纳新平台', 'Admit a platform')),
    field({ id: newId('pu'), name: 'uscc', label: T('统一社会信用代码', 'USCC'), control: uscc }),
    field({ id: newId('pn'), name: 'name', label: T('名称', 'Name'), control: name }),
    field({ id: newId('pd'), name: 'did', label: T('平台密钥(did:key)', 'Platform key (did:key)'), control: did }),
    field({ id: newId('pe'), name: 'endpoint', label: T('服务地址', 'Endpoint URL'), control: endpoint }),
    h('button', { type: 'submit', class: 'primary' }, T('接纳', 'Admit')),
    st,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    let bad = false;
    if (usccProblem(uscc.value.trim())) bad = setFieldError(form, 'uscc', T('统一社会信用代码校验不通过', 'Not a valid USCC'));
    if (!name.value.trim()) bad = setFieldError(form, 'name', T('请填写名称', 'Enter the name'));
    try {
      publicKeyOfDid(did.value.trim());
    } catch {
      bad = setFieldError(form, 'did', T('不是有效的 Ed25519 did:key', 'Not an Ed25519 did:key'));
    }
    if (!/^https?:\/\//.test(endpoint.value.trim())) bad = setFieldError(form, 'endpoint', T('须为 http(s) 地址', 'Must be an http(s) URL'));
    if (bad) {
      focusFirstError(form);
      return;
    }
    try {
      await post('/portal/api/platforms', { json: { uscc: uscc.value.trim(), name: name.value.trim(), did: did.value.trim(), endpoint: endpoint.value.trim() } });
      app.render();
    } catch (err) {
      let placed = false;
      if (err instanceof ApiError) {
        for (const r of err.reasons) {
          const f = { 'invalid-uscc': 'uscc', 'invalid-name': 'name', 'invalid-did': 'did', 'invalid-endpoint': 'endpoint' }[r.code];
          if (f) placed = setFieldError(form, f, r.message) || placed;
        }
        if (err.status === 409) placed = setFieldError(form, 'uscc', err.message);
      }
      if (!placed) clear(st, errorBox(err instanceof ApiError ? err.describe() : err.message, () => form.requestSubmit()));
      focusFirstError(form);
    }
  });
  return form;
}
