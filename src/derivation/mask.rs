//! Masking natural persons' identifiers in public records (`spec/derivations.md` §5).
//!
//! Public categories may reach a bank raw, but some fields name natural persons (a legal
//! representative, key personnel, court parties, a sole proprietor). The catalog marks such fields
//! (`personalFields` of a category) with how each is masked, following common practice in China:
//! a name keeps its first character (the surname) and becomes `张某`; an identity-document number
//! keeps its first 6 and last 4 characters; a telephone number its first 3 and last 4. A field that
//! holds an array is masked element by element; a field that is neither a string nor an array of
//! strings is removed, so that an unexpected shape never passes unmasked.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a personal field is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersonalField {
    /// A person's name: surname + 某.
    Name,
    /// An identity-document number: first 6, `*`s, last 4.
    IdNumber,
    /// A telephone number: first 3, `*`s, last 4.
    Phone,
}

fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len().max(1));
    }
    let mut out: String = chars.iter().take(head).collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(chars.iter().skip(chars.len() - tail));
    out
}

impl PersonalField {
    /// The masked form of `s`.
    pub fn mask(self, s: &str) -> String {
        let s = s.trim();
        match self {
            Self::Name => match s.chars().next() {
                Some(first) => format!("{first}某"),
                None => "某".to_owned(),
            },
            Self::IdNumber => keep_ends(s, 6, 4),
            Self::Phone => keep_ends(s, 3, 4),
        }
    }
}

/// Masks the marked fields of one record's `fields` in place, at any depth: a marked member of an
/// object nested under an unmarked one (`{"keyPersonnel": [{"personName": …}]}`) is masked too.
pub fn apply<'a>(
    fields: &mut Map<String, Value>,
    marked: impl IntoIterator<Item = (&'a String, &'a PersonalField)>,
) {
    let marked: Vec<(&String, &PersonalField)> = marked.into_iter().collect();
    mask_object(fields, &marked);
}

fn mask_object(fields: &mut Map<String, Value>, marked: &[(&String, &PersonalField)]) {
    let names: Vec<String> = fields.keys().cloned().collect();
    for name in names {
        let how = marked.iter().find(|(m, _)| **m == name).map(|(_, h)| **h);
        let Some(v) = fields.get_mut(&name) else {
            continue;
        };
        match how {
            Some(how) => {
                let masked = match v {
                    Value::String(s) => Some(Value::String(how.mask(s))),
                    Value::Array(items) if items.iter().all(Value::is_string) => Some(Value::Array(
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|s| Value::String(how.mask(s)))
                            .collect(),
                    )),
                    Value::Null => Some(Value::Null),
                    _ => None,
                };
                match masked {
                    Some(m) => *v = m,
                    None => {
                        fields.remove(&name);
                    }
                }
            }
            None => mask_nested(v, marked),
        }
    }
}

fn mask_nested(v: &mut Value, marked: &[(&String, &PersonalField)]) {
    match v {
        Value::Object(o) => mask_object(o, marked),
        Value::Array(items) => items.iter_mut().for_each(|x| mask_nested(x, marked)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_masks_as_documented() {
        assert_eq!(PersonalField::Name.mask("张三"), "张某");
        assert_eq!(PersonalField::Name.mask("欧阳娜娜"), "欧某");
        assert_eq!(PersonalField::Name.mask(""), "某");
        assert_eq!(
            PersonalField::IdNumber.mask("110101199003071234"),
            "110101********1234"
        );
        assert_eq!(PersonalField::IdNumber.mask("12345"), "*****");
        assert_eq!(PersonalField::Phone.mask("13812345678"), "138****5678");
    }

    #[test]
    fn nested_members_are_masked_too() {
        let mut f = json!({"keyPersonnel": [{"personName": "张三", "idNumber": "110101199003071234", "position": "董事"}], "note": {"inner": {"personName": "李四"}}})
            .as_object()
            .cloned()
            .unwrap_or_default();
        let marked = [
            ("personName".to_owned(), PersonalField::Name),
            ("idNumber".to_owned(), PersonalField::IdNumber),
        ];
        apply(&mut f, marked.iter().map(|(a, b)| (a, b)));
        assert_eq!(f["keyPersonnel"][0]["personName"], "张某");
        assert_eq!(f["keyPersonnel"][0]["idNumber"], "110101********1234");
        assert_eq!(f["keyPersonnel"][0]["position"], "董事");
        assert_eq!(f["note"]["inner"]["personName"], "李某");
        assert!(!Value::Object(f).to_string().contains("张三"));
    }

    #[test]
    fn arrays_are_masked_and_odd_shapes_removed() {
        let mut f =
            json!({"parties": ["李四", "王五"], "legalRepresentative": {"name": "赵六"}, "amount": 5})
                .as_object()
                .cloned()
                .unwrap_or_default();
        let marked = [
            ("parties".to_owned(), PersonalField::Name),
            ("legalRepresentative".to_owned(), PersonalField::Name),
        ];
        apply(&mut f, marked.iter().map(|(a, b)| (a, b)));
        assert_eq!(f["parties"], json!(["李某", "王某"]));
        assert!(
            !f.contains_key("legalRepresentative"),
            "an object cannot be masked: removed"
        );
        assert_eq!(f["amount"], 5);
    }
}
