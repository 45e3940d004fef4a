//! Checked identifiers. Each is parsed once at the edge and never re-validated: holding one means it
//! is well-formed.

pub mod uscc;

pub use uscc::{Uscc, UsccError};

use std::fmt;

/// A grant's id: the credential `id`, a `urn:uuid:` URN (RFC 9562) with a lowercase UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct GrantId(String);

/// A text that is not a grant id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("grant id {0:?} is not a urn:uuid: URN with a lowercase UUID")]
pub struct GrantIdError(pub String);

impl GrantId {
    /// Parses `urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase hex).
    pub fn parse(text: &str) -> Result<Self, GrantIdError> {
        let ok = text.strip_prefix("urn:uuid:").is_some_and(|u| {
            u.len() == 36
                && uuid::Uuid::parse_str(u).is_ok()
                && u.bytes()
                    .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(GrantIdError(text.to_owned()))
        }
    }

    /// A fresh random (version 4) id.
    pub fn random() -> Self {
        Self(format!("urn:uuid:{}", uuid::Uuid::new_v4()))
    }

    /// The URN.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for GrantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An objection's id: `obj-` and a lowercase hyphenated UUID (RFC 9562), given by the node when the
/// objection is lodged (spec/objections.md).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ObjectionId(String);

/// A text that is not an objection id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("objection id {0:?} is not obj- and a lowercase UUID")]
pub struct ObjectionIdError(pub String);

impl ObjectionId {
    /// Parses `obj-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase hex).
    pub fn parse(text: &str) -> Result<Self, ObjectionIdError> {
        let ok = text.strip_prefix("obj-").is_some_and(|u| {
            u.len() == 36
                && uuid::Uuid::parse_str(u).is_ok()
                && u.bytes()
                    .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(ObjectionIdError(text.to_owned()))
        }
    }

    /// A fresh random (version 4) id.
    pub fn random() -> Self {
        Self(format!("obj-{}", uuid::Uuid::new_v4()))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ObjectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objection_ids() {
        let id = ObjectionId::random();
        assert_eq!(ObjectionId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(
            serde_json::to_value(&id).unwrap(),
            serde_json::json!(id.to_string())
        );
        for bad in [
            "",
            "obj-",
            "obj-other",
            "0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10",
            "obj-0E0C3C47-33B4-4C5F-8A44-9C2D3F1E2A10",
            "obj-{0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10}",
            "obj-0e0c3c4733b44c5f8a449c2d3f1e2a10",
            "OBJ-0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10",
        ] {
            assert!(ObjectionId::parse(bad).is_err(), "{bad}");
        }
    }
}
