//! Paging of list routes: the query's `after` and `limit` read once ([`Page`]), and the page
//! answered with its cursor ([`Paged`]).

use serde::Serialize;
use serde::ser::SerializeMap as _;

use crate::error::{Error, Result};

/// The `after`/`limit` query of a list route as sent, unchecked: the operation checks it
/// ([`PageQuery::page`]) after it has checked who is asking.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Only items after this cursor (from `next`).
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

impl PageQuery {
    /// The page asked for (see [`Page`]).
    pub fn page(self) -> Result<Page> {
        Page::parse(self.after, self.limit)
    }
}

/// The `after`/`limit` of a list query, checked: `limit` 1–200 (default 50), else `400
/// invalid-query` (`limit: 1–200`); `after` the cursor of the previous page (default 0: from the
/// start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Only items after this cursor.
    pub after: i64,
    /// At most this many items.
    pub limit: i64,
}

impl Page {
    /// Default page size.
    pub const DEFAULT_LIMIT: i64 = 50;
    /// Largest page size.
    pub const MAX_LIMIT: i64 = 200;

    /// Reads a list query's `after` and `limit` (see [`Page`]).
    pub fn parse(after: Option<i64>, limit: Option<i64>) -> Result<Self> {
        let limit = Self::limit(limit)?;
        Ok(Self {
            after: after.unwrap_or(0),
            limit,
        })
    }

    /// Checks a query's `limit` alone (lists paged by another cursor than `after`).
    pub fn limit(limit: Option<i64>) -> Result<i64> {
        Self::limit_within(limit, Self::DEFAULT_LIMIT, Self::MAX_LIMIT)
    }

    /// Checks the `limit` of a list whose pages have a range of their own (the access log's
    /// entries, read by verifiers in large pages; the objections): `None` is `default`, a value
    /// outside 1–`max` is `400 invalid-query` naming the parameter and the range (`limit:
    /// 1–<max>`), never clamped.
    pub fn limit_within(limit: Option<i64>, default: i64, max: i64) -> Result<i64> {
        let limit = limit.unwrap_or(default);
        if !(1..=max).contains(&limit) {
            return Err(Error::invalid("invalid-query", format!("limit: 1–{max}")));
        }
        Ok(limit)
    }

    /// The cursor of the next page: that of the last row when the page is full, else `None`.
    pub fn next<T, C>(limit: i64, rows: &[T], cursor: impl Fn(&T) -> C) -> Option<C> {
        (i64::try_from(rows.len()).unwrap_or(0) == limit)
            .then(|| rows.last().map(cursor))
            .flatten()
    }
}

/// An item of a paged list: the member its list's schema puts the items under.
pub trait Listed {
    /// The member of the page (`loans`, `alerts`, …).
    const MEMBER: &'static str;
}

/// A page of a list: `{"<T::MEMBER>": [items], "next": cursor or null}`.
#[derive(Debug, Clone)]
pub struct Paged<T, C = i64> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page (pass as `after`, or the list's own cursor parameter), `None`
    /// when this page is the last.
    pub next: Option<C>,
}

impl<T: Serialize + Listed, C: Serialize> Serialize for Paged<T, C> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(T::MEMBER, &self.items)?;
        m.serialize_entry("next", &self.next)?;
        m.end()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors() {
        assert_eq!(Page::parse(None, None).unwrap(), Page { after: 0, limit: 50 });
        assert_eq!(Page::parse(Some(7), Some(200)).unwrap().after, 7);
        for bad in [0, -1, 201] {
            let e = Page::parse(None, Some(bad)).unwrap_err();
            assert_eq!(e.code(), "invalid-query");
            assert!(e.to_string().contains("limit: 1–200"), "{e}");
        }
        assert_eq!(Page::next(2, &[1, 2], |x| *x * 10), Some(20));
        assert_eq!(Page::next(3, &[1, 2], |x| *x * 10), None);
        assert_eq!(Page::next::<i64, i64>(0, &[], |x| *x), None);
        assert_eq!(Page::limit_within(None, 100, 10_000).unwrap(), 100);
        assert_eq!(Page::limit_within(Some(10_000), 100, 10_000).unwrap(), 10_000);
        for bad in [0, 10_001] {
            let e = Page::limit_within(Some(bad), 100, 10_000).unwrap_err();
            assert_eq!(e.code(), "invalid-query");
            assert!(e.to_string().contains("limit: 1–10000"), "{e}");
        }
    }
}
