// Sign-in (a challenge signed by a key that never leaves this browser), keys (create with an
// encrypted backup, import a key file or a backup, remove, recover a lost key), and registration.

import { T, fmtTime } from '../i18n.js';
import { h, clear, field, setFieldError, clearFieldErrors, focusFirstError, confirmDialog, download, statusLine, say, readFile, newId, errorBox } from '../ui.js';
import { ApiError, get, post, nodeInfo, setCsrf, session } from '../api.js';
import * as c from '../crypto.js';
import { usccProblem, usccTypingProblem } from '../uscc.js';

const short = (did) => `${did.slice(0, 16)}…${did.slice(-6)}`;

function keyFileName(did, suffix) {
  return `consentry-${did.slice(-8)}.${suffix}`;
}

/** Radio list of the keys stored in this browser. */
function keyList(keys, selected, name = 'stored-key') {
  if (!keys.length) return h('p', { class: 'empty' }, T('本浏览器中还没有密钥。', 'No key is stored in this browser yet.'));
  return h(
    'fieldset',
    { class: 'keys', 'data-field': name },
    h('legend', {}, T('选择密钥', 'Choose a key')),
    keys.map((k, i) => {
      const id = newId('key');
      return h(
        'div',
        { class: 'radio' },
        h('input', { type: 'radio', name, id, value: k.did, checked: selected ? k.did === selected : i === keys.length - 1 }),
        h('label', { for: id }, h('code', { class: 'did' }, short(k.did)), k.label ? ` · ${k.label}` : '', h('span', { class: 'muted' }, ` · ${fmtTime(k.created)}`)),
      );
    }),
    h('p', { class: 'error', 'aria-live': 'polite' }),
  );
}

function chosen(root, name = 'stored-key') {
  const r = root.querySelector(`input[name="${name}"]:checked`);
  return r ? r.value : null;
}

/** The key record of a DID (non-extractable CryptoKey). */
async function signer(did) {
  const k = await c.getKey(did);
  if (!k) throw new Error(T('找不到该密钥', 'That key is not stored here'));
  return k;
}

export async function signIn(did) {
  const k = await signer(did);
  const ch = await get('/portal/api/challenge');
  const node = await nodeInfo();
  if (ch.nodeDid !== node.did) throw new Error(T('挑战来自另一节点', 'The challenge names another node'));
  const sig = await c.sign(k, c.utf8(c.loginText(ch.nodeDid, ch.challenge)));
  const r = await post('/portal/api/session', { json: { did, challenge: ch.challenge, signature: c.base64url(sig) } });
  setCsrf(r.csrf);
  return r;
}

/** Creating a key: passphrase twice; the encrypted backup is downloaded before anything else. */
function createKeySection(onCreated) {
  const form = h('form', { class: 'card', id: 'create-key', novalidate: true });
  const pass = h('input', { type: 'password', autocomplete: 'new-password', minlength: '10', required: true });
  const pass2 = h('input', { type: 'password', autocomplete: 'new-password', required: true });
  const st = statusLine();
  form.append(
    h('h2', {}, T('创建新密钥', 'Create a new key')),
    h('p', {}, T(
      '密钥在本浏览器中生成,私钥不可导出。生成后会立即下载一个用口令加密的备份文件,请妥善保存:丢失密钥且无备份时,只能由节点运营方核实身份后为您绑定新密钥。',
      'The key is made in this browser and its private half cannot be exported. An encrypted backup file is downloaded at once: keep it safe. Without it, a lost key can only be replaced by the node operator after checking who you are.',
    )),
    field({ id: newId('pass'), name: 'passphrase', label: T('备份口令(至少 10 个字符)', 'Backup passphrase (at least 10 characters)'), control: pass }),
    field({ id: newId('pass2'), name: 'passphrase2', label: T('再次输入口令', 'Passphrase again'), control: pass2 }),
    h('button', { type: 'submit', class: 'primary', id: 'create-key-btn' }, T('创建密钥并下载加密备份', 'Create key and download encrypted backup')),
    st,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    if (pass.value.length < 10) {
      setFieldError(form, 'passphrase', T('口令至少 10 个字符', 'Use at least 10 characters'));
      focusFirstError(form);
      return;
    }
    if (pass.value !== pass2.value) {
      setFieldError(form, 'passphrase2', T('两次输入的口令不一致', 'The passphrases differ'));
      focusFirstError(form);
      return;
    }
    say(st, T('正在生成密钥与加密备份(约一秒)…', 'Making the key and its encrypted backup (about a second)…'));
    try {
      const { key, backup } = await c.createKeyWithBackup(pass.value);
      await c.storeKey(key, { backedUp: true });
      const text = `${JSON.stringify(backup, null, 2)}\n`;
      download(keyFileName(key.did, 'backup.json'), text);
      pass.value = '';
      pass2.value = '';
      say(st, T(`已创建 ${short(key.did)},备份已下载。`, `Created ${short(key.did)}; the backup was downloaded.`), 'ok');
      st.append(' ', h('button', { type: 'button', class: 'link', onclick: () => download(keyFileName(key.did, 'backup.json'), text) }, T('再次下载备份', 'Download the backup again')));
      onCreated(key.did);
    } catch (err) {
      say(st, `${T('创建失败', 'Could not create the key')}: ${err.message}`, 'bad');
    }
  });
  return form;
}

/** Importing a key file of `consentry key new`, or an encrypted backup (with its passphrase). */
function importSection(onImported) {
  const form = h('form', { class: 'card', id: 'import-key', novalidate: true });
  const file = h('input', { type: 'file', accept: '.json,application/json' });
  const pass = h('input', { type: 'password', autocomplete: 'current-password' });
  const st = statusLine();
  form.append(
    h('h2', {}, T('导入密钥文件或备份', 'Import a key file or a backup')),
    field({ id: newId('file'), name: 'keyfile', label: T('密钥文件(consentry key new 生成)或加密备份', 'Key file (made by consentry key new) or encrypted backup'), control: file }),
    field({ id: newId('ipass'), name: 'ipass', label: T('备份口令(仅加密备份需要)', 'Backup passphrase (encrypted backups only)'), control: pass }),
    h('button', { type: 'submit', class: 'secondary', id: 'import-key-btn' }, T('导入', 'Import')),
    st,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const f = file.files[0];
    if (!f) {
      setFieldError(form, 'keyfile', T('请选择文件', 'Choose a file'));
      focusFirstError(form);
      return;
    }
    try {
      let obj;
      try {
        obj = JSON.parse(await readFile(f));
      } catch {
        throw new c.KeyFileError('not-a-key-file');
      }
      let backedUp = false;
      if (c.isBackup(obj)) {
        if (!pass.value) {
          setFieldError(form, 'ipass', T('这是加密备份,请输入口令', 'This is an encrypted backup: enter its passphrase'));
          focusFirstError(form);
          return;
        }
        say(st, T('正在解密…', 'Decrypting…'));
        obj = await c.openBackup(obj, pass.value);
        backedUp = true;
      }
      const key = await c.importKeyFile(obj);
      obj.secretKeyMultibase = '';
      await c.storeKey(key, { backedUp, imported: true });
      pass.value = '';
      file.value = '';
      say(st, T(`已导入 ${short(key.did)}(不可导出)。`, `Imported ${short(key.did)} (not exportable).`), 'ok');
      onImported(key.did);
    } catch (err) {
      const code = err.code || '';
      const msg = {
        'wrong-passphrase': T('口令错误或备份已被改动', 'Wrong passphrase, or the backup was changed'),
        'not-a-backup': T('不是有效的备份文件', 'Not a valid backup file'),
        'not-a-key-file': T('不是有效的密钥文件', 'Not a valid key file'),
        'key-mismatch': T('私钥与 DID 不匹配', 'The secret key does not match the DID'),
      }[code];
      if (code === 'wrong-passphrase') setFieldError(form, 'ipass', msg);
      else setFieldError(form, 'keyfile', msg || err.message);
      say(st, '');
      focusFirstError(form);
    }
  });
  return form;
}

export async function signInPage(root, _params, app) {
  root.append(h('h1', {}, T('登录', 'Sign in')));
  if (session.me) {
    root.append(h('p', {}, T(`您已作为 ${session.me.participant.name} 登录。`, `You are signed in as ${session.me.participant.name}.`), ' ', h('a', { href: app.home() }, T('进入', 'Continue'))));
  }
  root.append(h('p', { class: 'lead' }, T(
    '用您的密钥对节点的一次性挑战签名即可登录。私钥只在本浏览器中,从不发送。',
    'Sign in by signing the node\'s one-time challenge with your key. The private key stays in this browser and is never sent.',
  )));
  const stored = h('form', { class: 'card', id: 'stored-keys', novalidate: true });
  const st = statusLine();
  const listBox = h('div');
  const drawList = async (selected) => {
    clear(listBox, keyList(await c.listKeys(), selected));
  };
  stored.append(
    h('h2', {}, T('使用本浏览器中的密钥', 'Use a key stored in this browser')),
    listBox,
    h('button', { type: 'submit', class: 'primary', id: 'signin-btn' }, T('签名并登录', 'Sign the challenge and sign in')),
    st,
  );
  stored.addEventListener('submit', async (e) => {
    e.preventDefault();
    const did = chosen(stored);
    if (!did) {
      say(st, T('请先创建或导入密钥', 'Create or import a key first'), 'bad');
      return;
    }
    say(st, T('正在签名…', 'Signing…'));
    try {
      await signIn(did);
      await app.refreshSession();
      const after = sessionStorage.getItem('consentry.after');
      sessionStorage.removeItem('consentry.after');
      location.hash = after && after !== '#/signin' ? after : app.home();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401 && !/not registered/.test(err.message)) {
        say(st, err.message, 'bad');
      } else if (err instanceof ApiError && /not registered/.test(err.message)) {
        clear(st, T('此密钥尚未注册。', 'This key is not registered.'), ' ', h('a', { href: '#/register' }, T('注册企业', 'Register your enterprise')));
        st.className = 'status bad';
      } else {
        clear(st, errorBox(err instanceof ApiError ? err.describe() : err.message, () => stored.requestSubmit()));
      }
    }
  });
  await drawList();
  root.append(stored, h('div', { class: 'grid2' }, createKeySection(drawList), importSection(drawList)));
  root.append(h('p', {}, h('a', { href: '#/register' }, T('还没有注册?企业注册', 'Not registered yet? Register your enterprise')), ' · ', h('a', { href: '#/keys' }, T('密钥管理与找回', 'Manage and recover keys'))));
}

export async function registerPage(root) {
  root.append(
    h('h1', {}, T('企业注册', 'Register your enterprise')),
    h('p', { class: 'lead' }, T(
      '用您的密钥签署注册请求,把统一社会信用代码与密钥绑定。节点运营方核实后批准;批准前为“待审核”。',
      'Sign a registration request with your key to bind your Unified Social Credit Code to it. It stays pending until the node operator checks and approves it.',
    )),
  );
  const keys = await c.listKeys();
  const form = h('form', { class: 'card', id: 'register-form', novalidate: true });
  const uscc = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: '18', inputmode: 'latin', class: 'mono', required: true });
  const name = h('input', { type: 'text', autocomplete: 'organization', maxlength: '100', required: true });
  const st = statusLine();
  const usccMsg = (p) =>
    ({
      length: T(`应为 18 位,当前 ${p.length} 位`, `Must have 18 characters; it has ${p.length}`),
      character: T(`第 ${p.position} 位“${p.char}”不是允许的字符(不用 I、O、S、V、Z,须大写)`, `Character ${p.position} "${p.char}" is not allowed (no I, O, S, V, Z; upper case)`),
      division: T('第 3–8 位(行政区划码)必须是数字', 'Characters 3–8 (division code) must be digits'),
      'org-check': T('第 17 位组织机构代码校验码不符(GB 11714)', 'Character 17, the organization-code check, is wrong (GB 11714)'),
      'final-check': T('第 18 位校验码不符(GB 32100),请核对是否输错', 'Character 18, the check character, is wrong (GB 32100): check for a typo'),
    })[p.code];
  const live = () => {
    const v = uscc.value.trim();
    const p = v ? usccTypingProblem(v) : null;
    setFieldError(form, 'uscc', p ? usccMsg(p) : '');
    uscc.classList.toggle('valid', v.length === 18 && !p);
  };
  uscc.addEventListener('input', live);
  uscc.addEventListener('blur', () => {
    const v = uscc.value.trim();
    if (v && v.length < 18) setFieldError(form, 'uscc', usccMsg(usccProblem(v)));
  });
  form.append(
    field({ id: newId('uscc'), name: 'uscc', label: T('统一社会信用代码', 'Unified Social Credit Code'), hint: T('18 位,输入时即校验', '18 characters, checked as you type'), control: uscc }),
    field({ id: newId('name'), name: 'name', label: T('企业名称(与营业执照一致)', 'Registered name (as on the business licence)'), control: name }),
    keys.length ? keyList(keys, null, 'reg-key') : h('p', { class: 'alert', 'data-field': 'reg-key' }, T('请先', 'First '), h('a', { href: '#/signin' }, T('创建或导入密钥', 'create or import a key')), '.'),
    h('button', { type: 'submit', class: 'primary', id: 'register-btn', disabled: !keys.length }, T('签名并提交注册', 'Sign and submit the registration')),
    st,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const v = uscc.value.trim();
    const p = usccProblem(v);
    let bad = false;
    if (p) {
      setFieldError(form, 'uscc', usccMsg(p));
      bad = true;
    }
    if (!name.value.trim()) {
      setFieldError(form, 'name', T('请填写企业名称', 'Enter the registered name'));
      bad = true;
    }
    const did = chosen(form, 'reg-key');
    if (!did) bad = true;
    if (bad) {
      focusFirstError(form);
      return;
    }
    say(st, T('正在签名并提交…', 'Signing and submitting…'));
    try {
      const node = await nodeInfo();
      const token = await c.signedRequest(await signer(did), node.did, 'register', { uscc: v, name: name.value.trim() });
      const r = await post('/portal/api/register', { body: token });
      clear(
        st,
        h('strong', {}, T(`已提交:${r.name}(${r.uscc})待节点审核。`, `Submitted: ${r.name} (${r.uscc}) is pending until the node approves.`)),
        ' ',
        h('a', { href: '#/signin' }, T('登录查看审核状态', 'Sign in to follow the approval')),
      );
      st.className = 'status ok';
      st.id = 'register-done';
    } catch (err) {
      say(st, '');
      if (err instanceof ApiError) {
        let placed = false;
        for (const r of err.reasons) {
          const target = { 'invalid-uscc': 'uscc', 'invalid-name': 'name' }[r.code];
          if (target) placed = setFieldError(form, target, r.message) || placed;
        }
        if (err.status === 409) placed = setFieldError(form, 'uscc', `${T('已注册', 'Already registered')}: ${err.message}`);
        if (!placed) st.append(errorBox(err.describe(), () => form.requestSubmit()));
        focusFirstError(form);
      } else {
        st.append(errorBox(err.message, () => form.requestSubmit()));
      }
    }
  });
  root.append(form);
}

export async function pendingPage(root, _p, app) {
  const me = session.me.participant;
  root.append(
    h('h1', {}, T('等待审核', 'Waiting for approval')),
    h('p', { class: 'lead', id: 'pending-state' }, T(
      `${me.name}(${me.uscc})的状态:${me.state === 'pending' ? '待节点审核' : me.state}。批准后即可签署授权。`,
      `${me.name} (${me.uscc}) is ${me.state === 'pending' ? 'pending until the node approves' : me.state}. Once approved you can sign grants.`,
    )),
    h('button', {
      type: 'button',
      class: 'primary',
      id: 'pending-refresh',
      onclick: async () => {
        await app.refreshSession();
        location.hash = app.home();
        app.render();
      },
    }, T('刷新状态', 'Refresh')),
  );
}

export async function keysPage(root) {
  root.append(h('h1', {}, T('密钥管理', 'Keys')));
  const list = h('div', { id: 'key-list' });
  const draw = async () => {
    const keys = await c.listKeys();
    clear(
      list,
      keys.length
        ? h('ul', { class: 'plain' }, keys.map((k) =>
            h('li', { class: 'card' },
              h('code', { class: 'did' }, k.did),
              h('p', { class: 'muted' }, `${fmtTime(k.created)} · ${k.privateKey.extractable ? T('可导出!', 'EXTRACTABLE!') : T('私钥不可导出', 'private key not exportable')} · ${k.backedUp ? T('已备份', 'backed up') : T('无备份记录', 'no backup recorded')}`),
              h('button', {
                type: 'button',
                class: 'danger',
                onclick: async () => {
                  const ok = await confirmDialog({
                    title: T('从本浏览器删除此密钥?', 'Remove this key from this browser?'),
                    body: [T('没有备份文件时,删除后无法再用它签名。', 'Without its backup file you will not be able to sign with it again.'), h('code', { class: 'did' }, k.did)],
                    confirm: T('删除', 'Remove'),
                    danger: true,
                  });
                  if (ok) {
                    await c.deleteKey(k.did);
                    draw();
                  }
                },
              }, T('从本浏览器删除', 'Remove from this browser')),
            )))
        : h('p', { class: 'empty' }, T('本浏览器中还没有密钥。', 'No key is stored in this browser yet.')),
    );
  };
  await draw();
  root.append(h('h2', {}, T('本浏览器中的密钥', 'Keys in this browser')), list, h('div', { class: 'grid2' }, importSection(draw), recoverySection(draw)));
}

/** Recovery of a lost key: a new key, and its accept-key request for the node operator. */
function recoverySection(onCreated) {
  const form = h('form', { class: 'card', id: 'recovery', novalidate: true });
  const uscc = h('input', { type: 'text', class: 'mono', maxlength: '18', autocomplete: 'off' });
  const pass = h('input', { type: 'password', autocomplete: 'new-password' });
  const out = h('div');
  form.append(
    h('h2', {}, T('密钥丢失?找回', 'Lost your key? Recover')),
    h('p', {}, T(
      '生成一把新密钥(并下载其加密备份)和一份由新密钥签名的“接受密钥”请求。请在 10 分钟内交给节点运营方,运营方核实您的身份后执行 consentry admin recover-key。',
      'Make a new key (its encrypted backup is downloaded) and an accept-key request signed by it. Hand it to the node operator within 10 minutes; after checking who you are, they run consentry admin recover-key.',
    )),
    field({ id: newId('ruscc'), name: 'ruscc', label: T('统一社会信用代码', 'Unified Social Credit Code'), control: uscc }),
    field({ id: newId('rpass'), name: 'rpass', label: T('新密钥的备份口令', 'Backup passphrase for the new key'), control: pass }),
    h('button', { type: 'submit', class: 'secondary' }, T('生成新密钥与恢复请求', 'Make the new key and the recovery request')),
    out,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const v = uscc.value.trim();
    if (usccProblem(v)) {
      setFieldError(form, 'ruscc', T('统一社会信用代码无效', 'Not a valid USCC'));
      return;
    }
    if (pass.value.length < 10) {
      setFieldError(form, 'rpass', T('口令至少 10 个字符', 'Use at least 10 characters'));
      return;
    }
    try {
      const node = await nodeInfo();
      const { key, backup } = await c.createKeyWithBackup(pass.value);
      await c.storeKey(key, { backedUp: true, recovery: v });
      download(keyFileName(key.did, 'backup.json'), `${JSON.stringify(backup, null, 2)}\n`);
      const token = await c.recoveryRequest(key, node.did, v);
      pass.value = '';
      clear(
        out,
        h('p', { class: 'status ok' }, T('新密钥已存入本浏览器。把下面的请求交给节点运营方:', 'The new key is stored in this browser. Give this request to the node operator:')),
        h('textarea', { readonly: true, rows: '4', class: 'mono', 'aria-label': 'accept-key' }, token),
        h('button', { type: 'button', class: 'secondary', onclick: () => download('accept-key.jwt', `${token}\n`, 'text/plain') }, T('下载请求文件', 'Download the request')),
        h('p', {}, T('运营方执行:', 'The operator runs:')),
        h('pre', {}, `consentry admin recover-key --role enterprise --uscc ${v} accept-key.jwt`),
      );
      onCreated();
    } catch (err) {
      clear(out, errorBox(err.message));
    }
  });
  return form;
}
