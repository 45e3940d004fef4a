//! A stored grant's state and the actions an enterprise (or its agent) takes on it
//! (spec/grant.md §4): `revoke` (final), `suspend` and `resume`. The state mirrors the grant's bits
//! in the status lists and changes in the same transaction.

/// A stored grant's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GrantState {
    /// In force.
    Active,
    /// Suspended (reversible).
    Suspended,
    /// Revoked (final).
    Revoked,
}

impl GrantState {
    /// Every state, in the order the statistics list them.
    pub const ALL: [Self; 3] = [Self::Active, Self::Suspended, Self::Revoked];

    /// The stored (and JSON) spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Revoked => "revoked",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl std::fmt::Display for GrantState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action on a grant, named as in the signed request's `action` claim and in the URL
/// (`/v1/grants/{id}/{action}`, the portal's `/portal/api/grants/{id}/{action}`): the one table both
/// parse with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantAction {
    /// Revoke (from `active` or `suspended`; final).
    Revoke,
    /// Suspend (from `active`).
    Suspend,
    /// Resume (from `suspended`).
    Resume,
}

impl GrantAction {
    /// Every action.
    pub const ALL: [Self; 3] = [Self::Revoke, Self::Suspend, Self::Resume];

    /// The spelling in URLs and in the signed request's `action` claim.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Revoke => "revoke",
            Self::Suspend => "suspend",
            Self::Resume => "resume",
        }
    }

    /// Parses the spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The state the action leads to from `from`, or `None` when it does not apply there.
    pub fn apply(self, from: GrantState) -> Option<GrantState> {
        match (self, from) {
            (Self::Revoke, GrantState::Active | GrantState::Suspended) => Some(GrantState::Revoked),
            (Self::Suspend, GrantState::Active) => Some(GrantState::Suspended),
            (Self::Resume, GrantState::Suspended) => Some(GrantState::Active),
            _ => None,
        }
    }
}

impl std::fmt::Display for GrantAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for s in GrantState::ALL {
            assert_eq!(GrantState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for a in GrantAction::ALL {
            assert_eq!(GrantAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(GrantState::parse("Active"), None);
        assert_eq!(GrantAction::parse("delete"), None);
    }

    #[test]
    fn the_action_table() {
        use GrantAction::*;
        use GrantState::*;
        let table = [
            (Revoke, Active, Some(Revoked)),
            (Revoke, Suspended, Some(Revoked)),
            (Revoke, Revoked, None),
            (Suspend, Active, Some(Suspended)),
            (Suspend, Suspended, None),
            (Suspend, Revoked, None),
            (Resume, Suspended, Some(Active)),
            (Resume, Active, None),
            (Resume, Revoked, None),
        ];
        for (action, from, to) in table {
            assert_eq!(action.apply(from), to, "{action} from {from}");
        }
    }
}
