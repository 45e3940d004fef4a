//! The node's own identity: its Ed25519 key (created on first start), the log origin, and the
//! subject-tag key derived from the node key. Several processes on one database must share one key:
//! the first to start records its DID in the database, the others refuse to start with another key.

use std::path::Path;

use crate::crypto::Sha256Digest;
use crate::error::Error;
use crate::identity::KeyFile;
use crate::storage::{DbConn, Store, settings};

/// File name of the node key in the data folder.
pub const NODE_KEY_FILE: &str = "node.key.json";

/// File name of a platform's key in its data folder.
pub const PLATFORM_KEY_FILE: &str = "platform.key.json";

/// Loads the key at `data_dir/<file>`, creating it (mode 0600) on first start
/// ([`KeyFile::load_or_create`]).
pub fn load_or_create_key(data_dir: &Path, file: &str) -> Result<(KeyFile, bool), Error> {
    KeyFile::load_or_create(data_dir, file).map_err(|e| Error::Internal(e.to_string()))
}

/// A setting shared through the database.
pub fn setting(conn: &mut DbConn, name: &str) -> Result<Option<String>, Error> {
    Ok(settings::get(conn, name)?)
}

/// Sets a setting if it is not set yet; returns the value in force.
pub fn setting_or_init(conn: &mut DbConn, name: &str, value: &str) -> Result<String, Error> {
    settings::init(conn, name, value)?;
    setting(conn, name)?.ok_or_else(|| Error::Internal(format!("setting {name} vanished")))
}

/// Binds the database to this key (first start) or checks that it is the key the database belongs
/// to, and returns the log origin recorded in the database. When none is recorded yet, the origin is
/// derived from `public_url` and recorded only if `fix_origin` (see [`crate::config::Config::fix_origin`]);
/// otherwise it is returned provisionally and the first `serve` fixes it.
pub fn bind_database(
    store: &Store,
    key: &KeyFile,
    public_url: &str,
    log_name: &str,
    fix_origin: bool,
) -> Result<String, Error> {
    let mut conn = store.conn()?;
    let did = setting_or_init(&mut conn, "service_did", key.did.as_str())?;
    if did != key.did.as_str() {
        return Err(Error::Conflict(format!(
            "this database belongs to {did}, but the key in the data folder is {}; give every process \
             sharing the database the same key file",
            key.did
        )));
    }
    let host = public_url
        .split("://")
        .nth(1)
        .unwrap_or(public_url)
        .trim_end_matches('/');
    let derived = format!("{host}/consentry/{log_name}");
    if fix_origin {
        setting_or_init(&mut conn, LOG_ORIGIN, &derived)
    } else {
        Ok(setting(&mut conn, LOG_ORIGIN)?.unwrap_or(derived))
    }
}

/// The setting that holds the access log's origin once it is fixed.
pub const LOG_ORIGIN: &str = "log_origin";

/// Whether the access log's origin is fixed in the database (checkpoints may be signed).
pub fn origin_fixed(conn: &mut DbConn) -> Result<bool, Error> {
    Ok(setting(conn, LOG_ORIGIN)?.is_some())
}

/// The subject-tag key: SHA-256("consentry/subject-tag/v1" ‖ node seed). Shared with regulators
/// (`consentry admin tag-key`), never derivable from public data.
pub fn tag_key(key: &KeyFile) -> [u8; 32] {
    Sha256Digest::of_parts(&[b"consentry/subject-tag/v1", &key.secret.seed()]).0
}
