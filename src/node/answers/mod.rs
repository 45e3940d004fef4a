//! The answers of the HTTP API as types: one `#[derive(Serialize)]` struct per success body, named
//! after the schema it implements in `spec/openapi.yaml` (`components/schemas/X`), so that the
//! spec, the code and the client libraries have one shape to agree on.
//!
//! Why one home rather than a type beside each operation: the answers are the contract, and a
//! reader (or a client library's author) should find the whole of it in one place, one file per
//! area, in the same order as the spec. The node's operations build these values and return them;
//! the handlers only serialize them ([`crate::wire::json`] takes any `Serialize`).
//!
//! Conventions, so that each type serializes exactly as the answer always did:
//! * members are camelCase (`#[serde(rename_all = "camelCase")]`);
//! * an `Option<T>` field is `null` when `None` unless it carries
//!   `#[serde(skip_serializing_if = "Option::is_none")]`, which is used exactly where the schema
//!   lets the member be absent;
//! * states, roles and other closed sets are their enums, not strings; members whose content is a
//!   document of its own (a record's fields, a stored event, a signed receipt) stay
//!   [`serde_json::Value`];
//! * a page of a list is [`Paged`]: the items under the member the list's schema names (see
//!   [`Listed`]) and `next`, the cursor for the following page or `null`.
//!
//! `tests/integration/openapi.rs` (`answer_types_match_their_schemas`) serializes a value of every
//! type and checks it against the schema its doc names, and checks that the types cover every JSON
//! success answer of [`crate::http::ROUTES`] except the documents served as they are stored.

pub mod consent;
pub mod data;
pub mod display;
pub mod grants;
pub mod health;
pub mod intake;
pub mod letters;
pub mod loans;
pub mod log;
pub mod objections;
mod paging;
pub mod registry;
pub mod stats;
pub mod webhooks;

pub use paging::{Listed, Page, PageQuery, Paged};

/// The typed answers serialize to the very bytes the `json!` literals they replaced produced (same
/// members, same order, same `null`s and omissions): each case builds the old literal from the same
/// values, as the code before #10 did.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod same_bytes {
    use serde_json::{Value, json};

    use super::*;
    use crate::node::display::Shown;
    use crate::policy::{ParticipantState, Role};
    use crate::storage::webhooks::{DeliveryState, EndpointState};

    const WHEN: &str = "2025-03-01T08:00:00Z";

    fn same(typed: &impl serde::Serialize, old: &Value) {
        assert_eq!(serde_json::to_string(typed).unwrap(), old.to_string());
    }

    #[test]
    fn registry() {
        let p = registry::Participant {
            uscc: "U".into(),
            role: Role::Bank,
            name: "N".into(),
            state: ParticipantState::Suspended,
            platform: Some("P".into()),
            endpoint: None,
            regions: vec![],
            created_at: WHEN.into(),
            keys: vec![registry::ParticipantKey {
                did: "did:key:z".into(),
                valid_from: WHEN.into(),
                valid_until: None,
            }],
        };
        let old = json!({
            "uscc": "U", "role": "bank", "name": "N", "state": "suspended",
            "platform": "P", "endpoint": null, "regions": [],
            "createdAt": WHEN,
            "keys": [json!({"did": "did:key:z", "validFrom": WHEN, "validUntil": null})],
        });
        same(&p, &old);
        same(
            &registry::Me {
                participant: p.clone(),
                identity_credential: None,
            },
            &json!({"participant": old, "identityCredential": null}),
        );
        same(
            &registry::BankCreated {
                uscc: "U".into(),
                name: "N".into(),
                role: Role::Bank,
                state: ParticipantState::Active,
                platform: None,
            },
            &json!({"uscc": "U", "name": "N", "role": "bank", "state": "active", "platform": null}),
        );
        same(
            &registry::StateChanged {
                uscc: "U".into(),
                state: ParticipantState::Removed,
                suspended_grants: 2,
            },
            &json!({"uscc": "U", "state": "removed", "suspendedGrants": 2}),
        );
        same(
            &registry::RegistrationDecision {
                uscc: "U".into(),
                state: ParticipantState::Rejected,
                identity_credential: None,
            },
            &json!({"uscc": "U", "state": "rejected", "identityCredential": null}),
        );
        same(
            &registry::KeyRotated {
                uscc: "U".into(),
                did: "did:key:z".into(),
                valid_from: WHEN.into(),
                log_index: 4,
            },
            &json!({"uscc": "U", "did": "did:key:z", "validFrom": WHEN, "logIndex": 4}),
        );
    }

    #[test]
    fn webhooks() {
        same(
            &webhooks::Webhook {
                id: "i".into(),
                url: "https://e.example/h".into(),
                events: vec!["grant.revoked".into()],
                description: None,
                state: EndpointState::Active,
                pending: 0,
                next_attempt_at: None,
                created_at: WHEN.into(),
                updated_at: WHEN.into(),
            },
            &json!({
                "id": "i", "url": "https://e.example/h", "events": ["grant.revoked"],
                "description": null, "state": "active", "pending": 0, "nextAttemptAt": null,
                "createdAt": WHEN, "updatedAt": WHEN,
            }),
        );
        same(
            &webhooks::WebhookDeleted {
                id: "i".into(),
                state: EndpointState::Deleted,
                cancelled: 1,
            },
            &json!({"id": "i", "state": "deleted", "cancelled": 1}),
        );
        same(
            &webhooks::WebhookDelivery {
                sequence: 1,
                event_id: "e".into(),
                kind: "grant.revoked".into(),
                state: DeliveryState::Cancelled,
                attempts: 0,
                created_at: WHEN.into(),
                next_attempt_at: None,
                last_attempt_at: None,
                last_status: None,
                last_error: None,
                delivered_at: None,
                payload: Value::Null,
            },
            &json!({
                "sequence": 1, "eventId": "e", "type": "grant.revoked", "state": "cancelled",
                "attempts": 0, "createdAt": WHEN, "nextAttemptAt": null, "lastAttemptAt": null,
                "lastStatus": null, "lastError": null, "deliveredAt": null, "payload": null,
            }),
        );
    }

    #[test]
    fn display_data_and_health() {
        let (zh, en) = Shown::Withdrawn.message();
        same(
            &display::PublicDisplay {
                enterprise: display::DisplayedEnterprise {
                    uscc: "U".into(),
                    name: "N".into(),
                },
                page: "https://n.example/sxm/U".into(),
                display: Shown::Withdrawn,
                message_zh: zh,
                message_en: en,
                evaluation: Value::Null,
            },
            &json!({
                "enterprise": {"uscc": "U", "name": "N"},
                "page": "https://n.example/sxm/U",
                "display": Shown::Withdrawn.as_str(),
                "messageZh": zh,
                "messageEn": en,
                "evaluation": null,
            }),
        );
        same(
            &display::DisplayConsent {
                enterprise: "U".into(),
                authorized: false,
                evaluation: None,
                changed_at: WHEN.into(),
                log_index: 3,
                page: "p".into(),
            },
            &json!({
                "enterprise": "U", "authorized": false, "evaluation": null,
                "changedAt": WHEN, "logIndex": 3, "page": "p",
            }),
        );
        let record = |corrections| data::OwnRecord {
            id: 1,
            category: "tax".into(),
            date: "2025-01-01".into(),
            provider: "STA".into(),
            fields: json!({"a": 1}),
            corrections,
        };
        let fix = data::RecordCorrection {
            objection: crate::ids::ObjectionId::parse("obj-0f8fad5b-d9cb-469f-a165-70867728950e").unwrap(),
            at: "t".into(),
            before: Value::Null,
            after: json!({"a": 1}),
            log_index: 5,
        };
        let mut corrected =
            json!({"id": 1, "category": "tax", "date": "2025-01-01", "provider": "STA", "fields": {"a": 1}});
        corrected["corrections"] = json!([{"objection": "obj-0f8fad5b-d9cb-469f-a165-70867728950e",
            "at": "t", "before": null, "after": {"a": 1}, "logIndex": 5}]);
        same(
            &data::EnterpriseData {
                enterprise: "U".into(),
                free: true,
                records: vec![record(vec![]), record(vec![fix])],
            },
            &json!({"enterprise": "U", "free": true, "records": [
                {"id": 1, "category": "tax", "date": "2025-01-01", "provider": "STA", "fields": {"a": 1}},
                corrected,
            ]}),
        );
        same(
            &health::Health {
                status: health::CheckState::Ok,
                log_size: 7,
                checks: crate::node::health::READY_CHECKS,
            },
            &json!({"status": "ok", "logSize": 7, "checks": {"database": "ok", "committer": "ok", "checkpoint": "ok"}}),
        );
        same(&crate::node::health::live(), &json!({"status": "alive"}));
    }
}
