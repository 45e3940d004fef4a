//! Typed values straight from a parsed [`Node`] tree (a `serde` deserializer), without going through
//! `serde_json::Value`.
//!
//! Stricter than `serde_json` in one way that matters for signed documents: a struct must be a JSON
//! object. `serde_json` also accepts a struct written as a positional array (`["2024-01-01",
//! "2026-10-31"]` for `{"from":…, "until":…}`), which would let two spellings of one document carry
//! different signatures while meaning the same — or a reader rely on member order.

use serde::de::value::{BorrowedStrDeserializer, Error};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;

use super::{Node, Number};

/// Deserializes a `T` from a node. Errors name the path where they occurred
/// (`dataPeriod: invalid type: sequence, expected a JSON object`).
pub fn from_node<'de, 'a: 'de, T: serde::Deserialize<'de>>(node: &'de Node<'a>) -> Result<T, PathError> {
    // Path tracking costs several times the deserialization itself, so only a failure pays for it.
    T::deserialize(node)
        .or_else(|_| serde_path_to_error::deserialize(node).map_err(|e| PathError(e.to_string())))
}

/// A deserialization error with the path where it occurred.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PathError(pub String);

fn unexpected<'n>(node: &'n Node<'_>) -> Unexpected<'n> {
    match node {
        Node::Null => Unexpected::Unit,
        Node::Bool(b) => Unexpected::Bool(*b),
        Node::Number(Number::Int(i)) => Unexpected::Signed(*i),
        Node::Number(Number::Float(f)) => Unexpected::Float(*f),
        Node::String(s) => Unexpected::Str(s),
        Node::Array(_) => Unexpected::Seq,
        Node::Object(_) => Unexpected::Map,
    }
}

impl<'de, 'a: 'de> de::Deserializer<'de> for &'de Node<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            Node::Null => v.visit_unit(),
            Node::Bool(b) => v.visit_bool(*b),
            Node::Number(Number::Int(i)) if *i >= 0 => v.visit_u64(i.unsigned_abs()),
            Node::Number(Number::Int(i)) => v.visit_i64(*i),
            Node::Number(Number::Float(f)) => v.visit_f64(*f),
            Node::String(s) => v.visit_borrowed_str(s),
            Node::Array(items) => v.visit_seq(Seq { iter: items.iter() }),
            Node::Object(members) => v.visit_map(Map {
                iter: members.iter(),
                value: None,
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            Node::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self {
            Node::Object(members) => v.visit_map(Map {
                iter: members.iter(),
                value: None,
            }),
            other => Err(de::Error::invalid_type(unexpected(other), &"a JSON object")),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match self {
            // Unit variants, written as strings: the only enum form this crate's documents use.
            Node::String(s) => v.visit_enum(IntoDeserializer::<Error>::into_deserializer(s.as_ref())),
            other => Err(de::Error::invalid_type(
                unexpected(other),
                &"a string naming a variant",
            )),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Seq<'de, 'a> {
    iter: std::slice::Iter<'de, Node<'a>>,
}

impl<'de, 'a: 'de> de::SeqAccess<'de> for Seq<'de, 'a> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        self.iter.next().map(|n| seed.deserialize(n)).transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct Map<'de, 'a> {
    iter: std::slice::Iter<'de, (std::borrow::Cow<'a, str>, Node<'a>)>,
    value: Option<&'de Node<'a>>,
}

impl<'de, 'a: 'de> de::MapAccess<'de> for Map<'de, 'a> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(BorrowedStrDeserializer::new(k.as_ref()))
                    .map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let v = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("value without a key"))?;
        seed.deserialize(v)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::json::parse;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Period {
        from: String,
        until: String,
    }

    #[test]
    fn structs_must_be_objects() {
        let ok = parse(br#"{"from":"a","until":"b"}"#).unwrap();
        assert_eq!(
            from_node::<Period>(&ok).unwrap(),
            Period {
                from: "a".into(),
                until: "b".into()
            }
        );
        let positional = parse(br#"["a","b"]"#).unwrap();
        assert!(from_node::<Period>(&positional).is_err());
        let extra = parse(br#"{"from":"a","until":"b","x":1}"#).unwrap();
        assert!(from_node::<Period>(&extra).is_err());
    }

    #[test]
    fn numbers_and_options() {
        let n = parse(b"[1, -2, 2.5, null]").unwrap();
        let v: (u32, i64, f64, Option<u8>) = from_node(&n).unwrap();
        assert_eq!(v, (1, -2, 2.5, None));
        assert!(from_node::<u32>(&parse(b"-1").unwrap()).is_err());
        assert!(from_node::<u8>(&parse(b"256").unwrap()).is_err());
    }
}
