// Small DOM helpers: elements without innerHTML (no markup is ever built from data), labelled fields
// with their error slot, confirmation dialogs, downloads, status and retry messages.

import { T } from './i18n.js';

/** h('button', {class: 'x', onclick: f}, 'text', child, [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let uid = 0;
export function newId(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * A labelled field: <label for> + hint + control + the error slot right after it; the control's
 * aria-describedby names hint and error, so a screen reader reads the error with the field.
 */
export function field({ id, label, control, hint, name }) {
  control.id = id;
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  control.setAttribute('aria-describedby', [hint ? hintId : null, errId].filter(Boolean).join(' '));
  return h(
    'div',
    { class: 'field', 'data-field': name || id },
    h('label', { for: id }, label),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    control,
    h('p', { class: 'error', id: errId, 'aria-live': 'polite' }),
  );
}

/** Shows `message` next to the field named `name` inside `root` (or clears it). Returns whether such a field exists. */
export function setFieldError(root, name, message) {
  const box = root.querySelector(`[data-field="${CSS.escape(name)}"]`);
  if (!box) return false;
  const err = box.querySelector('.error');
  const ctl = box.querySelector('input, select, textarea, fieldset');
  if (err) err.textContent = message || '';
  if (ctl) {
    if (message) ctl.setAttribute('aria-invalid', 'true');
    else ctl.removeAttribute('aria-invalid');
  }
  box.classList.toggle('has-error', !!message);
  return true;
}

export function clearFieldErrors(root) {
  root.querySelectorAll('.field.has-error, fieldset.has-error').forEach((b) => b.classList.remove('has-error'));
  root.querySelectorAll('.error').forEach((e) => {
    e.textContent = '';
  });
  root.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}

/** Focuses the first field with an error. */
export function focusFirstError(root) {
  const box = root.querySelector('.has-error');
  const ctl = box && box.querySelector('input, select, textarea, button');
  if (ctl) ctl.focus();
}

/**
 * A modal confirmation (native <dialog>: focus stays inside while open, Escape cancels). Resolves
 * true only when the confirming button is used.
 */
export function confirmDialog({ title, body, confirm, cancel, danger = false }) {
  return new Promise((resolve) => {
    const titleId = newId('dlg');
    const dlg = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      ...[].concat(body || []).map((b) => (b instanceof Node ? b : h('p', {}, b))),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', value: 'cancel', autofocus: danger, onclick: () => dlg.close('cancel') }, cancel || T('取消', 'Cancel')),
        h('button', { type: 'button', class: danger ? 'danger' : 'primary', value: 'ok', 'data-confirm': '1', autofocus: !danger, onclick: () => dlg.close('ok') }, confirm),
      ),
    );
    const before = document.activeElement;
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (before && before.isConnected) before.focus();
      resolve(dlg.returnValue === 'ok');
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** Offers `text` as a file download. */
export function download(filename, text, type = 'application/json') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, class: 'visually-hidden' }, filename);
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
    a.remove();
  }, 60000);
}

/** A live status line. */
export function statusLine() {
  return h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
}

export function say(el, text, kind = '') {
  el.className = `status ${kind}`;
  el.textContent = text;
}

/** An error box with an optional retry button: nothing the person entered is lost. */
export function errorBox(message, retry) {
  return h(
    'div',
    { class: 'alert', role: 'alert' },
    h('p', {}, message),
    retry ? h('button', { type: 'button', class: 'secondary retry', onclick: retry }, T('重试', 'Retry')) : null,
  );
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

/** Reads a chosen file as text. */
export function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsText(file);
  });
}

export function table(headers, rows, { caption, cls = '' } = {}) {
  return h(
    'div',
    { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || headers.join(' ') },
    h(
      'table',
      { class: cls },
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))),
    ),
  );
}
