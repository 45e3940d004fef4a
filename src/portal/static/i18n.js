// Chinese first, English on request; the choice is remembered in localStorage. Each text is written
// once with both languages side by side: T('中文', 'English').

const KEY = 'consentry.lang';
let current = (() => {
  try {
    return localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
})();

export function lang() {
  return current;
}

export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  try {
    localStorage.setItem(KEY, current);
  } catch {
    /* private mode: the choice lasts for this page */
  }
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
}

/** The text in the current language. */
export function T(zh, en) {
  return current === 'en' ? en : zh;
}

/** Both languages, for marks and legal texts that must read the same to everyone. */
export function both(zh, en) {
  return `${zh} ${en}`;
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(current === 'en' ? 'en-GB' : 'zh-CN', { hour12: false });
}

setLang(current);
