//! The time limits a proof sets — Data Integrity's `created` and `expires`, a VC-JWT's `exp`, `nbf`
//! and `iat` — checked when the proof is verified and again at every later use of what it verified.
//! A grant held verified in a cache (the node's and the platform's `GrantCache`) lapses when its
//! proof does, not only at `validUntil`: one rule, one implementation, for both moments.

use time::OffsetDateTime;

use super::ProofError;
use super::data_integrity::ALLOWED_CLOCK_SKEW;

/// A verified proof's time limits, as its envelope states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofTimes {
    /// eddsa-jcs-2022 (VC Data Integrity §4.3 step 2 as spec/grant.md §5 applies it): `created` no
    /// later than `now` plus [`ALLOWED_CLOCK_SKEW`]; `expires`, if present, after `now`.
    DataIntegrity {
        /// `created`, parsed.
        created: OffsetDateTime,
        /// `created` as written (quoted in the error).
        created_text: String,
        /// `expires`, parsed and as written.
        expires: Option<(OffsetDateTime, String)>,
    },
    /// VC-JWT (RFC 7519 §4.1.4–§4.1.6, with [`ALLOWED_CLOCK_SKEW`]): `now` before `exp` + skew, not
    /// before `nbf` − skew, and `iat` no later than `now` + skew.
    Jwt {
        /// `exp`, POSIX seconds.
        exp: Option<i64>,
        /// `nbf`, POSIX seconds.
        nbf: Option<i64>,
        /// `iat`, POSIX seconds.
        iat: Option<i64>,
    },
}

impl ProofTimes {
    /// Whether the proof is within its time limits at `now`; the first limit broken, as the
    /// envelope's verification reports it.
    pub fn check(&self, now: OffsetDateTime) -> Result<(), ProofError> {
        match self {
            Self::DataIntegrity {
                created,
                created_text,
                expires,
            } => {
                if *created > now + ALLOWED_CLOCK_SKEW {
                    return Err(ProofError::CreatedInFuture(created_text.clone()));
                }
                match expires {
                    Some((at, text)) if *at <= now => Err(ProofError::ProofExpired(text.clone())),
                    _ => Ok(()),
                }
            }
            Self::Jwt { exp, nbf, iat } => {
                let skew = ALLOWED_CLOCK_SKEW.whole_seconds();
                let now_s = now.unix_timestamp();
                if let Some(exp) = *exp {
                    if now_s >= exp.saturating_add(skew) {
                        return Err(ProofError::Expired(exp));
                    }
                }
                if let Some(nbf) = *nbf {
                    if now_s.saturating_add(skew) < nbf {
                        return Err(ProofError::NotBefore(nbf));
                    }
                }
                if let Some(iat) = *iat {
                    if now_s.saturating_add(skew) < iat {
                        return Err(ProofError::IssuedInFuture(iat));
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn data_integrity_limits() {
        let t = ProofTimes::DataIntegrity {
            created: datetime!(2026-06-01 00:00 UTC),
            created_text: "2026-06-01T00:00:00Z".into(),
            expires: Some((datetime!(2026-07-01 00:00 UTC), "2026-07-01T00:00:00Z".into())),
        };
        assert!(t.check(datetime!(2026-06-15 00:00 UTC)).is_ok());
        // Within the skew before `created`, and not after.
        assert!(t.check(datetime!(2026-05-31 23:56 UTC)).is_ok());
        assert_eq!(
            t.check(datetime!(2026-05-31 23:54 UTC)),
            Err(ProofError::CreatedInFuture("2026-06-01T00:00:00Z".into()))
        );
        // `expires` has no skew: at the instant it is expired.
        assert_eq!(
            t.check(datetime!(2026-07-01 00:00 UTC)),
            Err(ProofError::ProofExpired("2026-07-01T00:00:00Z".into()))
        );
    }

    #[test]
    fn jwt_limits() {
        let (exp, nbf, iat) = (2_000_000_000, 1_900_000_000, 1_900_000_100);
        let t = ProofTimes::Jwt {
            exp: Some(exp),
            nbf: Some(nbf),
            iat: Some(iat),
        };
        let at = |s: i64| OffsetDateTime::from_unix_timestamp(s).unwrap();
        assert!(t.check(at(1_950_000_000)).is_ok());
        assert!(t.check(at(exp + 299)).is_ok());
        assert_eq!(t.check(at(exp + 300)), Err(ProofError::Expired(exp)));
        assert_eq!(t.check(at(nbf - 301)), Err(ProofError::NotBefore(nbf)));
        let t = ProofTimes::Jwt {
            exp: None,
            nbf: None,
            iat: Some(iat),
        };
        assert_eq!(t.check(at(iat - 301)), Err(ProofError::IssuedInFuture(iat)));
        // Extreme claims do not overflow.
        let t = ProofTimes::Jwt {
            exp: Some(i64::MAX),
            nbf: Some(i64::MIN),
            iat: None,
        };
        assert!(t.check(at(1_950_000_000)).is_ok());
    }
}
