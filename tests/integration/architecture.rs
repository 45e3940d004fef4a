//! The architecture test (issue #10): what each part of `src/` may name, checked on the source
//! text of every `.rs` file under `src/`, comments and string literals removed.
//!
//! 1. **One home for SQL.** No file outside `src/storage/` names `diesel`.
//! 2. **A pure core.** No file of the core (`ids`, `crypto`, `credential`, `grant`, `status`,
//!    `identity`, `catalog`, `derivation`, `evaluation`, `calendar`, `policy`, `log`) names `diesel`, `actix*`, `tokio*`,
//!    `crate::node` or `crate::storage` — also not through a `crate::{…}` group or a `super::` path
//!    that climbs out of the core into `node` or `storage`.
//! 3. **Handlers call the node.** No file in `src/http/` or `src/portal/` names `crate::storage`
//!    (the same ways); they reach the database through `crate::node` only.
//! 4. **States are types.** No string literal whose whole text is a state (`"pending"`, `"active"`,
//!    `"suspended"`, `"removed"`, `"rejected"`, `"revoked"`, and an objection's `"received"`,
//!    `"forwarded"`, `"under-review"`, `"corrected"`) outside the modules of the enums that
//!    spell them ([`STATE_ENUM_MODULES`]) and outside items marked `#[cfg(test)]`; the few literals
//!    that are not states ([`STATE_WORD_EXCEPTIONS`]) are listed with a reason and counted. This rule
//!    reads the string literals themselves (rules 1–3 read the code with them blanked); comments,
//!    doc text, SQL migrations (`migrations/`), the portal's static JS and `spec/` are not `.rs` code
//!    and are not read.
//! 5. **No cycles back.** The edges cut in issue #10 stay cut: `crypto` is a leaf (no file of it
//!    names another top-level module of the crate, [`MODULES`]); no file of `witness` names
//!    `crate::node` (keys are loaded by `identity::KeyFile::load_or_create`); no file of `portal`
//!    names `crate::http` (`http` mounts the portal; both take their request and answer plumbing from
//!    `crate::wire`). Named the same ways as in rules 2 and 3.
//!
//! A failure names every offending file and line. The scanner is deliberately simple (a lexer for
//! comments, strings and char literals, then word-bounded matches), and its own cases are tested
//! below so that a blind spot shows up as a failing test, not as a silent pass.

use std::path::{Path, PathBuf};

/// The top-level modules (directories or files under `src/`) that make up the pure core.
const CORE: [&str; 18] = [
    "ids",
    "intake",
    "industry",
    "risk",
    "bulletin",
    "loan",
    "region",
    "crypto",
    "credential",
    "grant",
    "status",
    "identity",
    "catalog",
    "derivation",
    "evaluation",
    "calendar",
    "policy",
    "log",
];

/// Every top-level module of the crate (a directory or file under `src/`, `lib.rs` and `main.rs`
/// aside). Rule 5 reads it; [`the_module_list_is_complete`] checks it against `src/`.
const MODULES: [&str; 30] = [
    "bulletin",
    "calendar",
    "catalog",
    "cli",
    "clock",
    "config",
    "credential",
    "crypto",
    "derivation",
    "error",
    "evaluation",
    "grant",
    "http",
    "identity",
    "ids",
    "industry",
    "intake",
    "loan",
    "log",
    "metrics",
    "node",
    "platform",
    "policy",
    "portal",
    "region",
    "risk",
    "status",
    "storage",
    "wire",
    "witness",
];

/// Rule 5: the module that may not name the others, the modules it may not name (an empty list: every
/// other module), and why.
const NO_EDGES: [(&str, &[&str], &str); 3] = [
    ("crypto", &[], "`crypto` is a leaf"),
    (
        "witness",
        &["node"],
        "the witness runs apart from the node; load keys with `identity::KeyFile::load_or_create`",
    ),
    (
        "portal",
        &["http"],
        "`http` mounts the portal, not the reverse; take request helpers from `crate::wire`",
    ),
];

/// The state words of rule 4.
const STATE_WORDS: [&str; 10] = [
    "pending",
    "active",
    "suspended",
    "removed",
    "rejected",
    "revoked",
    "received",
    "forwarded",
    "under-review",
    "corrected",
];

/// The files (relative to `src/`) that define the state enums: the one place each spelling is
/// written.
const STATE_ENUM_MODULES: [(&str, &str); 6] = [
    ("policy/mod.rs", "ParticipantState"),
    ("grant/state.rs", "GrantState, GrantAction"),
    (
        "storage/webhooks.rs",
        "EndpointState, DeliveryState (the outbox's own bookkeeping)",
    ),
    ("storage/objections.rs", "ObjectionState (an objection's state)"),
    ("evaluation/mod.rs", "EvaluationState"),
    (
        "grant/request.rs",
        "ConsentRequestState (a consent request's state)",
    ),
];

/// State words that are not states, by file: `(file, word, how many times, why)`. The count is exact,
/// so a new use fails and a stale exception has to be removed.
const STATE_WORD_EXCEPTIONS: &[(&str, &str, usize, &str)] = &[
    (
        "node/stats.rs",
        "pending",
        1,
        "the objection forwarding deadline's `pending` count as a CSV key (the JSON field is the answer type's), not a state",
    ),
    (
        "node/objections/deadlines.rs",
        "pending",
        1,
        "the forwarding deadline's status (kept/missed/pending/unknown) of an objection's view, not a state",
    ),
    (
        "storage/stats.rs",
        "pending",
        1,
        "the deadline label the statistics SQL computes (kept/missed/pending), not a state",
    ),
    (
        "node/notify/outbox.rs",
        "revoked",
        1,
        "English prose of the notice text (next to its Chinese), not the stored state",
    ),
    (
        "node/notify/outbox.rs",
        "suspended",
        1,
        "English prose of the notice text (next to its Chinese), not the stored state",
    ),
];

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `text` with every comment and the contents of every string and char literal replaced by spaces,
/// byte for byte (newlines kept), so that byte offsets and line numbers are those of the file.
fn code_only(text: &str) -> String {
    lex(text).0
}

/// The string literals of `text` (plain, raw and byte strings, not char literals, not comments):
/// the byte offset of each literal's start and its text between the quotes, unescaped escapes
/// kept as written.
fn string_literals(text: &str) -> Vec<(usize, String)> {
    lex(text).1
}

/// [`code_only`] and [`string_literals`] in one pass.
fn lex(text: &str) -> (String, Vec<(usize, String)>) {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut literals = Vec::new();
    // Blanks `b[from..to]` into `out`, one space per byte.
    let blank = |out: &mut String, from: usize, to: usize| {
        for &c in &b[from..to.min(b.len())] {
            if c == '\n' {
                out.push('\n');
            } else {
                out.extend(std::iter::repeat_n(' ', c.len_utf8()));
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let prev_is_word = i > 0 && is_word(b[i - 1]);
        let raw_start = if c == 'b' { i + 2 } else { i + 1 };
        let end = if c == '/' && next == Some('/') {
            let mut j = i;
            while j < b.len() && b[j] != '\n' {
                j += 1;
            }
            j
        } else if c == '/' && next == Some('*') {
            let (mut j, mut depth) = (i, 0);
            while j < b.len() {
                if b[j] == '/' && b.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == '*' && b.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            j
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && !prev_is_word
            && raw_string_hashes(&b, raw_start).is_some()
        {
            // r"…", r#"…"#, br"…": no escapes; ends at a quote followed by as many hashes.
            let hashes = raw_string_hashes(&b, raw_start).unwrap_or(0);
            let mut j = raw_start + hashes + 1;
            while j < b.len() && !(b[j] == '"' && (1..=hashes).all(|k| b.get(j + k) == Some(&'#'))) {
                j += 1;
            }
            let from = (raw_start + hashes + 1).min(b.len());
            literals.push((out.len(), b[from..j.min(b.len())].iter().collect()));
            j + hashes + 1
        } else if c == '"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                j += if b[j] == '\\' { 2 } else { 1 };
            }
            literals.push((out.len(), b[i + 1..j.min(b.len())].iter().collect()));
            j + 1
        } else if c == '\'' && next == Some('\\') {
            // An escaped char literal: '\n', '\'', '\u{…}'.
            let mut j = i + 3;
            while j < b.len() && b[j] != '\'' {
                j += 1;
            }
            j + 1
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            // A plain char literal ('x'); any other quote starts a lifetime or a label.
            i + 3
        } else {
            out.push(c);
            i += 1;
            continue;
        };
        blank(&mut out, i, end);
        i = end;
    }
    (out, literals)
}

/// If `b[at..]` opens a raw string (`#…#"`), how many hashes it has.
fn raw_string_hashes(b: &[char], at: usize) -> Option<usize> {
    let mut n = 0;
    while b.get(at + n) == Some(&'#') {
        n += 1;
    }
    (b.get(at + n) == Some(&'"')).then_some(n)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The byte offsets of every word in `code` that starts with `prefix` (the whole word when
/// `whole`), not preceded by a word character.
fn words(code: &str, prefix: &str, whole: bool) -> Vec<usize> {
    code.match_indices(prefix)
        .filter(|(at, _)| !code[..*at].chars().next_back().is_some_and(is_word))
        .filter(|(at, m)| !whole || !code[at + m.len()..].chars().next().is_some_and(is_word))
        .map(|(at, _)| at)
        .collect()
}

/// The byte offsets at which `code` names the top-level module `module` by a path: `crate::module`,
/// `crate::{…, module…}`, or `super::`…`::module` climbing from `file_module` (the file's module
/// path, e.g. `["log", "audit"]`) to the crate root.
fn names_module(code: &str, file_module: &[&str], module: &str) -> Vec<usize> {
    let squeezed: String = code
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let mut hits = Vec::new();
    for at in words(&squeezed, "crate", true) {
        let rest = squeezed[at + "crate".len()..].trim_start();
        let Some(rest) = rest.strip_prefix("::") else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level items of the group: the first word of each comma-separated item.
            let mut depth = 0;
            let mut item_start = true;
            for (k, ch) in group.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && is_word(c) => {
                        item_start = false;
                        let word: String = group[k..].chars().take_while(|c| is_word(*c)).collect();
                        if word == module {
                            hits.push(at);
                        }
                    }
                    _ => {}
                }
            }
        } else if first_word(rest) == module {
            hits.push(at);
        }
    }
    for at in words(&squeezed, "super", true) {
        if squeezed[..at].trim_end().ends_with("::") {
            continue; // counted from the first `super` of the path
        }
        let mut depth = file_module.len();
        let mut rest = &squeezed[at..];
        while let Some(r) = rest.strip_prefix("super") {
            let Some(r) = r.trim_start().strip_prefix("::") else {
                break;
            };
            depth = depth.saturating_sub(1);
            rest = r.trim_start();
        }
        if depth == 0 && first_word(rest) == module {
            hits.push(at);
        }
    }
    hits
}

fn first_word(s: &str) -> &str {
    let end = s.find(|c: char| !is_word(c)).unwrap_or(s.len());
    &s[..end]
}

/// The module path of a file relative to `src/`: `log/audit.rs` → `["log", "audit"]`,
/// `log/mod.rs` → `["log"]`, `lib.rs` → `[]`.
fn module_path(rel: &str) -> Vec<&str> {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<&str> = rel.split('/').collect();
    if matches!(parts.last(), Some(&"mod") | Some(&"lib") | Some(&"main")) {
        parts.pop();
    }
    parts
}

fn line_of(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Every violation of the rules in the file at `rel` (relative to `src/`, `/`-separated) with
/// content `text`, as `src/<rel>:<line>: <what>`.
fn violations(rel: &str, text: &str) -> Vec<String> {
    let code = code_only(text);
    let top = module_path(rel).first().copied().unwrap_or("");
    let module = module_path(rel);
    let in_core = CORE.contains(&top);
    let mut found: Vec<(usize, String)> = Vec::new();
    if top != "storage" {
        for at in words(&code, "diesel", true) {
            found.push((
                at,
                "names `diesel` outside src/storage/ (rule 1: one home for SQL)".into(),
            ));
        }
    }
    if in_core {
        for (prefix, whole) in [("actix", false), ("tokio", false)] {
            for at in words(&code, prefix, whole) {
                let word = first_word(&code[at..]);
                found.push((at, format!("the pure core names `{word}` (rule 2)")));
            }
        }
        for m in ["node", "storage"] {
            for at in names_module(&code, &module, m) {
                found.push((at, format!("the pure core names `crate::{m}` (rule 2)")));
            }
        }
    }
    if top == "http" || top == "portal" {
        for at in names_module(&code, &module, "storage") {
            found.push((
                at,
                format!("src/{top}/ names `crate::storage`; call a `crate::node` function instead (rule 3)"),
            ));
        }
    }
    for (from, to, why) in NO_EDGES {
        if top != from {
            continue;
        }
        let forbidden = MODULES
            .iter()
            .filter(|m| **m != from && (to.is_empty() || to.contains(m)));
        for m in forbidden {
            for at in names_module(&code, &module, m) {
                found.push((at, format!("src/{top}/ names `crate::{m}` (rule 5: {why})")));
            }
        }
    }
    found.extend(state_words(rel, text, &code));
    found.sort();
    found
        .into_iter()
        .map(|(at, what)| format!("src/{rel}:{}: {what}", line_of(text, at)))
        .collect()
}

/// The byte ranges of the items marked `#[cfg(test)]` in `code` (comments and strings blanked): from
/// the attribute to the item's closing brace, or to its `;` when that comes first (a `use`).
fn test_items(code: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    for (at, attr) in code.match_indices("#[cfg(test)]") {
        let from = at + attr.len();
        let rest = &code[from..];
        let open = rest.find('{');
        if let Some(semi) = rest.find(';').filter(|s| open.is_none_or(|o| *s < o)) {
            out.push(at..from + semi + 1);
            continue;
        }
        let Some(open) = open else {
            out.push(at..code.len());
            continue;
        };
        let mut depth = 0usize;
        let mut end = code.len();
        for (k, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = from + open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push(at..end);
    }
    out
}

/// Rule 4: the state-word literals of the file at `rel`, unless it is an enum's module, the literal
/// is in an item marked `#[cfg(test)]`, or an exception covers exactly that many.
fn state_words(rel: &str, text: &str, code: &str) -> Vec<(usize, String)> {
    if STATE_ENUM_MODULES.iter().any(|(m, _)| *m == rel) {
        return Vec::new();
    }
    let tests = test_items(code);
    let mut found = Vec::new();
    for word in STATE_WORDS {
        let hits: Vec<usize> = string_literals(text)
            .into_iter()
            .filter(|(at, s)| s == word && !tests.iter().any(|r| r.contains(at)))
            .map(|(at, _)| at)
            .collect();
        let allowed = STATE_WORD_EXCEPTIONS
            .iter()
            .find(|(f, w, _, _)| *f == rel && *w == word)
            .map(|(_, _, n, _)| *n);
        if allowed == Some(hits.len()) {
            continue;
        }
        let note = match allowed {
            Some(n) => format!(" (the exception allows exactly {n}; update it or use the enum)"),
            None => String::new(),
        };
        found.extend(hits.iter().map(|&at| {
            (
                at,
                format!("the state string \"{word}\" outside its enum's module (rule 4); use the enum{note}"),
            )
        }));
        if hits.is_empty()
            && let Some(n) = allowed
        {
            found.push((
                0,
                format!("a stale rule-4 exception: \"{word}\" allowed {n} time(s), found none"),
            ));
        }
    }
    found
}

#[test]
fn every_part_names_only_what_it_may() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = rust_files(&src);
    assert!(
        files.len() > 50,
        "found only {} files under {}",
        files.len(),
        src.display()
    );
    let mut all = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path).unwrap();
        all.extend(violations(&rel, &text));
    }
    assert!(
        all.is_empty(),
        "{} architecture violation(s):\n  {}",
        all.len(),
        all.join("\n  ")
    );
}

#[test]
fn the_module_list_is_complete() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|m| m != "lib" && m != "main")
        .collect();
    found.sort();
    assert_eq!(
        found, MODULES,
        "update MODULES (rule 5) to the modules under src/"
    );
}

// ---------------------------------------------------------------------------------------------
// The scanner's own cases
// ---------------------------------------------------------------------------------------------

#[test]
fn comments_strings_and_chars_are_not_code() {
    let text = r####"//! diesel in a module doc
/// crate::storage in an item doc
fn f<'a>(x: &'a str) -> char { let _ = "diesel::prelude"; let _ = r#"crate::node "quoted""#; '"' }
/* block /* nested diesel */ still comment */ const C: char = '\''; let s = "esc \" diesel";
let b = br"tokio"; // actix
"####;
    let code = code_only(text);
    assert_eq!(code.len(), text.len());
    assert_eq!(code.matches('\n').count(), text.matches('\n').count());
    for word in [
        "diesel", "storage", "node", "tokio", "actix", "quoted", "nested", "esc",
    ] {
        assert!(!code.contains(word), "{word} survived in {code:?}");
    }
    assert!(code.contains("fn f<'a>(x: &'a str) -> char"));
    assert!(code.contains("const C: char"));
}

#[test]
fn each_rule_catches_what_it_should() {
    let v = |rel: &str, text: &str| violations(rel, text);
    // Rule 1: diesel, anywhere outside storage, in any position.
    assert_eq!(v("storage/x.rs", "use diesel::prelude::*;"), Vec::<String>::new());
    assert_eq!(
        v("node/release.rs", "\nuse diesel::prelude::*;"),
        ["src/node/release.rs:2: names `diesel` outside src/storage/ (rule 1: one home for SQL)"]
    );
    assert_eq!(v("cli/x.rs", "#[derive(diesel::Queryable)] struct A;").len(), 1);
    assert_eq!(v("node/x.rs", "let dieselish = 1; // diesel").len(), 0);
    // Rule 2: the core.
    assert_eq!(v("log/a.rs", "use tokio::sync::Mutex;").len(), 1);
    assert_eq!(v("crypto/a.rs", "actix_web::rt::spawn(f);").len(), 1);
    assert_eq!(v("grant/a.rs", "use crate::node::Node;").len(), 1);
    assert_eq!(v("grant/a.rs", "use crate :: storage;").len(), 1);
    assert_eq!(
        v("grant/a.rs", "use crate::{\n  ids::Uscc,\n  storage::DbConn,\n};").len(),
        1
    );
    assert_eq!(v("grant/a.rs", "use crate::{ids::{node, storage}};").len(), 0);
    assert_eq!(v("log/audit.rs", "use super::super::node::Node;").len(), 1);
    assert_eq!(v("log/audit.rs", "use super::merkle::node_hash;").len(), 0);
    assert_eq!(v("catalog.rs", "use super::storage::Store;").len(), 1);
    assert_eq!(
        v("log/a.rs", r#"let role = "node"; let node = 1; x.node(1);"#).len(),
        0
    );
    assert_eq!(
        v(
            "node/a.rs",
            "use tokio::sync::Semaphore; use crate::storage::Store;"
        )
        .len(),
        0
    );
    // Rule 3: handlers.
    assert_eq!(
        v(
            "http/routes/a.rs",
            "node.store.call(crate::storage::log_store::head)"
        )
        .len(),
        1
    );
    assert_eq!(
        v("portal/a.rs", "use crate::{node::Node, storage::sessions};").len(),
        1
    );
    assert_eq!(
        v("http/routes/a.rs", "use super::super::super::storage::Store;").len(),
        1
    );
    assert_eq!(
        v("http/routes/a.rs", "use super::super::storage::Store;").len(),
        0
    );
    assert_eq!(
        v("http/routes/a.rs", "use crate::node::Node; // crate::storage").len(),
        0
    );
    // Rule 5: no edge back.
    assert_eq!(
        v("crypto/jws.rs", "\nuse crate::identity::{DidKey, KeyResolver};"),
        ["src/crypto/jws.rs:2: src/crypto/ names `crate::identity` (rule 5: `crypto` is a leaf)"]
    );
    assert_eq!(v("crypto/a.rs", "use crate::{error::Error, ids::Uscc};").len(), 2);
    assert_eq!(
        v(
            "crypto/json/a.rs",
            "use super::super::super::credential::ProofError;"
        )
        .len(),
        1
    );
    assert_eq!(
        v(
            "crypto/json/a.rs",
            "use super::super::jcs; use crate::crypto::Sha256Digest;"
        )
        .len(),
        0
    );
    assert_eq!(
        v(
            "witness/server.rs",
            "let k = crate::node::identity::load_or_create_key(d, f)?;"
        )
        .len(),
        1
    );
    assert_eq!(
        v(
            "witness/server.rs",
            "use crate::identity::KeyFile; // crate::node"
        )
        .len(),
        0
    );
    assert_eq!(v("portal/mod.rs", "let q = crate::http::query(&req)?;").len(), 1);
    assert_eq!(
        v(
            "portal/mod.rs",
            "use crate::wire::{Body, query}; use actix_web::http::StatusCode;"
        )
        .len(),
        0
    );
    assert_eq!(
        v("http/mod.rs", "cfg.configure(crate::portal::configure);").len(),
        0
    );
}

#[test]
fn rule_4_reads_string_literals() {
    let text = r####"let a = "active"; let b = r#"pending"#; let c = b"revoked";
// "suspended" in a comment
let d = "an active grant"; let e = "Active"; let f = 'a';
"####;
    let lits: Vec<String> = string_literals(text).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        lits,
        ["active", "pending", "revoked", "an active grant", "Active"]
    );
    let v = |rel: &str, text: &str| violations(rel, text);
    assert_eq!(
        v("node/x.rs", "\nif p.state == \"removed\" {}"),
        ["src/node/x.rs:2: the state string \"removed\" outside its enum's module (rule 4); use the enum"]
    );
    assert_eq!(v("node/x.rs", text).len(), 3);
    assert_eq!(
        v(
            "node/objections/x.rs",
            "if o.state == \"under-review\" { s = \"received\"; }"
        )
        .len(),
        2
    );
    assert_eq!(
        v("storage/objections.rs", "Self::Received => \"received\",").len(),
        0
    );
    assert_eq!(v("policy/mod.rs", text).len(), 0);
    assert_eq!(v("node/x.rs", "const S: &str = \"rejected-ish\";").len(), 0);
    assert_eq!(
        v(
            "node/x.rs",
            "fn f() {}\n#[cfg(test)]\nmod tests { const S: &str = \"active\"; }"
        )
        .len(),
        0
    );
    // Only the test items are skipped, not whatever follows them.
    assert_eq!(
        v(
            "node/x.rs",
            "#[cfg(test)]\nuse a::b;\n#[cfg(test)]\nmod tests { fn t() { if x { \"active\"; } } }\nconst S: &str = \"active\";"
        ),
        ["src/node/x.rs:5: the state string \"active\" outside its enum's module (rule 4); use the enum"]
    );
    // An exception covers exactly its count: one more is a violation, none is a stale exception.
    assert_eq!(
        v("storage/stats.rs", "match d { \"pending\" => 1, _ => 0 }").len(),
        0
    );
    assert_eq!(
        v("storage/stats.rs", "let a = [\"pending\", \"pending\"];").len(),
        2
    );
    assert_eq!(v("storage/stats.rs", "let a = 1;").len(), 1);
}
