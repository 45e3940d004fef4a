//! Checked identifiers. Each is parsed once at the edge and never re-validated: holding one means it
//! is well-formed.

pub mod uscc;

pub use uscc::{Uscc, UsccError};

use std::fmt;

/// Declares an identifier made of a fixed prefix and a lowercase hyphenated UUID (RFC 9562): its
/// type, its error type, parsing (the only way to hold one), a fresh random (version 4) value, its
/// text, `Display`, and a `Deserialize` that parses.
macro_rules! uuid_id {
    (
        $(#[$meta:meta])*
        $name:ident, $(#[$emeta:meta])* $error:ident, prefix $prefix:literal, $what:literal
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        pub struct $name(String);

        $(#[$emeta])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("{} {:?} is not {} and a lowercase UUID", $what, .0, $prefix)]
        pub struct $error(pub String);

        impl $name {
            #[doc = concat!("Parses `", $prefix, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase hex).")]
            pub fn parse(text: &str) -> Result<Self, $error> {
                if text.strip_prefix($prefix).is_some_and(is_lowercase_uuid) {
                    Ok(Self(text.to_owned()))
                } else {
                    Err($error(text.to_owned()))
                }
            }

            /// A fresh random (version 4) id.
            pub fn random() -> Self {
                Self(format!("{}{}", $prefix, uuid::Uuid::new_v4()))
            }

            /// The id's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A hyphenated UUID in lowercase hex (36 characters).
fn is_lowercase_uuid(u: &str) -> bool {
    u.len() == 36
        && uuid::Uuid::parse_str(u).is_ok()
        && u.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

uuid_id!(
    /// A grant's id: the credential `id`, a `urn:uuid:` URN (RFC 9562) with a lowercase UUID.
    GrantId,
    /// A text that is not a grant id.
    GrantIdError,
    prefix "urn:uuid:",
    "grant id"
);

uuid_id!(
    /// An objection's id: `obj-` and a lowercase hyphenated UUID (RFC 9562), given by the node when
    /// the objection is lodged (spec/objections.md).
    ObjectionId,
    /// A text that is not an objection id.
    ObjectionIdError,
    prefix "obj-",
    "objection id"
);

uuid_id!(
    /// A consent request's id: `creq-` and a lowercase hyphenated UUID (RFC 9562), given by the node
    /// when a platform or bank drafts the request (spec/consent-requests.md).
    ConsentRequestId,
    /// A text that is not a consent request id.
    ConsentRequestIdError,
    prefix "creq-",
    "consent request id"
);

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

    #[test]
    fn consent_request_ids() {
        let id = ConsentRequestId::random();
        assert!(id.as_str().starts_with("creq-"));
        assert_eq!(ConsentRequestId::parse(id.as_str()), Ok(id.clone()));
        for bad in ["", "creq-", "creq-X", "obj-0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10"] {
            assert!(ConsentRequestId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grant_ids() {
        let id = GrantId::random();
        assert_eq!(GrantId::parse(id.as_str()), Ok(id.clone()));
        let back: GrantId = serde_json::from_value(serde_json::json!(id.as_str())).unwrap();
        assert_eq!(back, id);
        for bad in [
            "",
            "urn:uuid:",
            "0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10",
            "urn:uuid:0E0C3C47-33B4-4C5F-8A44-9C2D3F1E2A10",
            "urn:uuid:0e0c3c4733b44c5f8a449c2d3f1e2a10",
            "obj-0e0c3c47-33b4-4c5f-8a44-9c2d3f1e2a10",
        ] {
            assert!(GrantId::parse(bad).is_err(), "{bad}");
            assert!(serde_json::from_value::<GrantId>(serde_json::json!(bad)).is_err());
        }
        assert_eq!(
            GrantId::parse("x").unwrap_err().to_string(),
            "grant id \"x\" is not urn:uuid: and a lowercase UUID"
        );
    }
}
