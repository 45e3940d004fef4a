//! Key files: `{"did", "publicKeyMultibase", "secretKeyMultibase"}` (Multikey, vc-di-eddsa §2.1.1),
//! written with mode 0600 and checked for internal consistency when read.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::did_key::DidKey;
use crate::crypto::SecretKey;
use crate::crypto::ed25519::RngError;
use crate::crypto::multibase::{self, MultibaseError};

/// The JSON form of a key file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KeyFileJson {
    /// The `did:key` of the public key.
    pub did: String,
    /// Multikey public key (`z6Mk…`).
    pub public_key_multibase: String,
    /// Multikey secret seed (`z3u2…`). The W3C test vectors call it `privateKeyMultibase`.
    #[serde(alias = "privateKeyMultibase")]
    pub secret_key_multibase: String,
}

/// Why a key file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Not a key file.
    #[error("{path}: not a key file: {message}")]
    Format {
        /// The file.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// A value in the file is not a valid Multikey.
    #[error("{path}: {source}")]
    Key {
        /// The file.
        path: String,
        /// The cause.
        source: MultibaseError,
    },
    /// The parts of the file do not belong together.
    #[error("{path}: {message}")]
    Inconsistent {
        /// The file.
        path: String,
        /// Which parts disagree.
        message: String,
    },
    /// No random seed could be had for a new key.
    #[error(transparent)]
    Random(#[from] RngError),
}

/// A secret key together with its `did:key`.
#[derive(Debug, Clone)]
pub struct KeyFile {
    /// The secret key.
    pub secret: SecretKey,
    /// Its `did:key`.
    pub did: DidKey,
}

impl KeyFile {
    /// Wraps a secret key.
    pub fn new(secret: SecretKey) -> Self {
        let did = DidKey::from_public_key(&secret.public_key());
        Self { secret, did }
    }

    /// The JSON document.
    pub fn to_json(&self) -> KeyFileJson {
        KeyFileJson {
            did: self.did.as_str().to_owned(),
            public_key_multibase: self.did.multibase().to_owned(),
            secret_key_multibase: multibase::encode_secret_multikey(&self.secret),
        }
    }

    /// Parses and cross-checks a key file's JSON text. `path` is only used in error messages.
    pub fn from_json(text: &str, path: &str) -> Result<Self, KeyFileError> {
        let json: KeyFileJson = serde_json::from_str(text).map_err(|e| KeyFileError::Format {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let secret = multibase::decode_secret_multikey(&json.secret_key_multibase).map_err(|source| {
            KeyFileError::Key {
                path: path.to_owned(),
                source,
            }
        })?;
        let public = multibase::decode_public_multikey(&json.public_key_multibase).map_err(|source| {
            KeyFileError::Key {
                path: path.to_owned(),
                source,
            }
        })?;
        if secret.public_key() != public {
            return Err(KeyFileError::Inconsistent {
                path: path.to_owned(),
                message: "publicKeyMultibase is not the public key of secretKeyMultibase".into(),
            });
        }
        let file = Self::new(secret);
        if file.did.as_str() != json.did {
            return Err(KeyFileError::Inconsistent {
                path: path.to_owned(),
                message: format!("did {} does not match the key (expected {})", json.did, file.did),
            });
        }
        Ok(file)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, KeyFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&text, &shown)
    }

    /// Loads the key at `dir/<file>`, creating the folder and a new key (mode 0600) when there is none
    /// yet; the flag says whether the key was created now. Used by every process that keeps its own
    /// key in its data folder: the node, a platform, a witness.
    pub fn load_or_create(dir: &Path, file: &str) -> Result<(Self, bool), KeyFileError> {
        std::fs::create_dir_all(dir).map_err(|source| KeyFileError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join(file);
        if path.exists() {
            return Self::read(&path).map(|k| (k, false));
        }
        let key = Self::new(SecretKey::generate()?);
        key.write_new(&path)?;
        Ok((key, true))
    }

    /// Writes the key file with permissions 0600, refusing to overwrite an existing file.
    pub fn write_new(&self, path: &Path) -> Result<(), KeyFileError> {
        use std::io::Write;
        let shown = path.display().to_string();
        let io = |source| KeyFileError::Io {
            path: shown.clone(),
            source,
        };
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(io)?;
        f.write_all(self.to_pretty_json().as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)
    }

    /// Pretty JSON text of the key file, with a trailing newline.
    pub fn to_pretty_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        s.push('\n');
        s
    }
}
