//! Unified Social Credit Codes (统一社会信用代码), GB 32100-2015.
//!
//! 18 characters from the 31-character set `0-9 A-H J-N P-R T U W-Y` (no I, O, S, V, Z):
//!
//! | positions | meaning |
//! |---|---|
//! | 1 | registration authority (登记管理部门码) |
//! | 2 | organization category (机构类别码) |
//! | 3–8 | administrative division (登记管理机关行政区划码), six digits |
//! | 9–17 | organization code (主体标识码), GB 11714-1997: eight characters and a check character |
//! | 18 | check character over positions 1–17 |
//!
//! The check character (GB 32100-2015 §5, Annex B): with values 0–30 in set order and weights
//! `Wᵢ = 3^(i−1) mod 31`, `C₁₈ = 31 − (Σ Cᵢ·Wᵢ mod 31)`, 31 becoming 0. The organization code's check
//! (GB 11714-1997 §5.2): weights 3 7 9 10 5 8 4 2 over character values (digits 0–9, letters A=10 …
//! Z=35), `C₉ = 11 − (Σ mod 11)`, 10 written `X` and 11 written `0`. Both are verified; lower case
//! is refused rather than folded, so one code has one spelling.

use std::fmt;

/// The 31 characters of GB 32100-2015, in value order.
pub const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Why a text is not a Unified Social Credit Code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsccError {
    /// Not 18 characters.
    #[error("a Unified Social Credit Code has 18 characters, got {0}")]
    Length(usize),
    /// A character outside the GB 32100 set (I, O, S, V, Z, lower case, punctuation…).
    #[error("character {ch:?} at position {pos} is not in the GB 32100-2015 character set")]
    Character {
        /// The character.
        ch: char,
        /// 1-based position.
        pos: usize,
    },
    /// Positions 3–8 are not digits.
    #[error("positions 3–8 must be a six-digit administrative division code")]
    Division,
    /// The GB 11714 check character of the embedded organization code (position 17) is wrong.
    #[error("organization code check character is {found:?}, expected {expected:?} (GB 11714-1997)")]
    OrgCheck {
        /// What the code has.
        found: char,
        /// What it should be.
        expected: char,
    },
    /// The GB 32100 check character (position 18) is wrong.
    #[error("check character is {found:?}, expected {expected:?} (GB 32100-2015)")]
    Check {
        /// What the code has.
        found: char,
        /// What it should be.
        expected: char,
    },
}

/// A valid Unified Social Credit Code. [`Uscc::parse`] is the only way to make one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

fn value(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The GB 32100-2015 check character for the first 17 characters.
fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    let v = (31 - sum % 31) % 31;
    Some(CHARSET[v as usize])
}

/// The GB 11714-1997 check character for an 8-character organization-code body.
fn org_check_char(body: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (c, w) in body.iter().zip(ORG_WEIGHTS) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        d => b'0' + d as u8,
    })
}

impl Uscc {
    /// Validates `text`: length, character set, division digits and both check characters.
    pub fn parse(text: &str) -> Result<Self, UsccError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() != 18 {
            return Err(UsccError::Length(chars.len()));
        }
        for (i, ch) in chars.iter().enumerate() {
            if !ch.is_ascii() || !CHARSET.contains(&(*ch as u8)) {
                return Err(UsccError::Character { ch: *ch, pos: i + 1 });
            }
        }
        let b = text.as_bytes();
        if !b[2..8].iter().all(u8::is_ascii_digit) {
            return Err(UsccError::Division);
        }
        let org_expected = org_check_char(&b[8..16]).unwrap_or(b'?');
        if b[16] != org_expected {
            return Err(UsccError::OrgCheck {
                found: b[16] as char,
                expected: org_expected as char,
            });
        }
        let expected = check_char(&b[..17]).unwrap_or(b'?');
        if b[17] != expected {
            return Err(UsccError::Check {
                found: b[17] as char,
                expected: expected as char,
            });
        }
        Ok(Self(text.to_owned()))
    }

    /// Completes 16 characters (authority, category, division, organization-code body) with both
    /// check characters. `None` if a character is outside the set or the body yields an organization
    /// check character (`X`… is in the set, so only malformed input fails).
    pub fn complete(first16: &str) -> Option<Self> {
        let b = first16.as_bytes();
        if b.len() != 16 {
            return None;
        }
        let mut full = b.to_vec();
        full.push(org_check_char(&b[8..16])?);
        full.push(check_char(&full)?);
        Self::parse(std::str::from_utf8(&full).ok()?).ok()
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The six-digit administrative division code (positions 3–8).
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }

    /// The nine-character organization code (positions 9–17), GB 11714.
    pub fn organization_code(&self) -> &str {
        &self.0[8..17]
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Uscc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Uscc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn published_codes_validate() {
        // Codes printed on public business licences (Shenzhen Tencent Computer Systems, Huawei
        // Technologies, Alibaba (China) Network Technology, Bank of China, ICBC, China Construction
        // Bank): both check characters must agree with the registries.
        for code in [
            "91440300708461136T",
            "914403001922038216",
            "91330100716105852F",
            "911000001000013428",
            "91100000100003962T",
            "911100001000044477",
        ] {
            assert_eq!(Uscc::parse(code).map(|c| c.to_string()), Ok(code.to_owned()));
            assert_eq!(
                Uscc::complete(&code[..16]).map(|c| c.to_string()),
                Some(code.to_owned())
            );
        }
        // The GB 11714 example organization code D2143569-X (weights 3 7 9 10 5 8 4 2).
        assert_eq!(org_check_char(b"D2143569"), Some(b'X'));
        assert!(matches!(
            Uscc::parse("91110000100000000X"),
            Err(UsccError::OrgCheck { .. })
        ));
    }

    #[test]
    fn refusals_name_the_problem() {
        let good = Uscc::complete("9133010071610585").unwrap();
        let s = good.as_str();
        assert_eq!(Uscc::parse(&s[..17]), Err(UsccError::Length(17)));
        assert!(matches!(
            Uscc::parse("91330100716105852f"),
            Err(UsccError::Character { ch: 'f', pos: 18 })
        ));
        let with_o = format!("{}O{}", &s[..5], &s[6..]);
        assert_eq!(
            Uscc::parse(&with_o),
            Err(UsccError::Character { ch: 'O', pos: 6 })
        );
        let with_letter_division = format!("91A{}", &s[3..]);
        assert_eq!(Uscc::parse(&with_letter_division), Err(UsccError::Division));
    }

    proptest! {
        #[test]
        fn every_single_substitution_is_caught(
            head in "[0-9A-HJ-NPQRTUW-Y]{2}",
            div in "[0-9]{6}",
            body in "[0-9A-HJ-NPQRTUW-Y]{8}",
            pos in 0usize..18,
            repl in 0usize..31,
        ) {
            let code = Uscc::complete(&format!("{head}{div}{body}")).unwrap();
            let mut bytes = code.as_str().as_bytes().to_vec();
            prop_assume!(bytes[pos] != CHARSET[repl]);
            bytes[pos] = CHARSET[repl];
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Uscc::parse(&changed).is_err(), "{} -> {} accepted", code, changed);
        }
    }
}
