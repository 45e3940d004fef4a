//! The database schema, one definition for both backends (portable types only). Must match
//! `migrations/sqlite` and `migrations/postgres`; the migrations test checks that it does.
#![allow(missing_docs)]

diesel::table! {
    participants (id) {
        id -> BigInt,
        uscc -> Text,
        role -> Text,
        name -> Text,
        state -> Text,
        platform_uscc -> Nullable<Text>,
        endpoint -> Nullable<Text>,
        evidence -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    participant_keys (id) {
        id -> BigInt,
        participant_id -> BigInt,
        did -> Text,
        valid_from -> BigInt,
        valid_until -> Nullable<BigInt>,
    }
}

diesel::table! {
    issued_credentials (id) {
        id -> Text,
        participant_id -> BigInt,
        kind -> Text,
        body -> Text,
        issued_at -> BigInt,
    }
}

diesel::table! {
    delegations (id) {
        id -> Text,
        enterprise_id -> BigInt,
        agent_did -> Text,
        agent_name -> Text,
        scope -> Text,
        body -> Text,
        valid_from -> BigInt,
        valid_until -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    grants (id) {
        id -> Text,
        sha256 -> Text,
        body -> Binary,
        envelope -> Text,
        enterprise_uscc -> Text,
        grantee_uscc -> Text,
        signer_did -> Text,
        delegation_id -> Nullable<Text>,
        status_list -> BigInt,
        status_index -> BigInt,
        valid_from -> BigInt,
        valid_until -> BigInt,
        state -> Text,
        submitted_at -> BigInt,
        submitted_seq -> BigInt,
    }
}

diesel::table! {
    grant_parties (grant_id, uscc) {
        grant_id -> Text,
        uscc -> Text,
        role -> Text,
    }
}

diesel::table! {
    grant_events (id) {
        id -> BigInt,
        grant_id -> Text,
        action -> Text,
        actor -> Text,
        evidence -> Text,
        at -> BigInt,
        log_seq -> BigInt,
    }
}

diesel::table! {
    grant_usage (grant_id, period) {
        grant_id -> Text,
        period -> Text,
        used -> BigInt,
    }
}

diesel::table! {
    status_lists (list_no, purpose) {
        list_no -> BigInt,
        purpose -> Text,
        bits -> Binary,
        version -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    status_slots (list_no, idx) {
        list_no -> BigInt,
        idx -> BigInt,
        enterprise_uscc -> Text,
        grant_id -> Nullable<Text>,
        allocated_at -> BigInt,
    }
}

diesel::table! {
    seen_jti (jti) {
        jti -> Text,
        issuer -> Text,
        expires_at -> BigInt,
    }
}

diesel::table! {
    letters (id) {
        id -> Text,
        provider -> Text,
        version -> BigInt,
        body -> Text,
        sha256 -> Text,
        published_at -> BigInt,
    }
}

diesel::table! {
    data_records (id) {
        id -> BigInt,
        uscc -> Text,
        category -> Text,
        record_date -> Text,
        body -> Text,
        provider -> Text,
        imported_at -> BigInt,
    }
}

diesel::table! {
    log_state (id) {
        id -> SmallInt,
        size -> BigInt,
        frontier -> Binary,
        last_time -> BigInt,
    }
}

diesel::table! {
    log_leaves (seq) {
        seq -> BigInt,
        leaf -> Binary,
        kind -> SmallInt,
        time -> BigInt,
        enterprise_uscc -> Nullable<Text>,
        grant_id -> Nullable<Text>,
        caller_uscc -> Nullable<Text>,
        platform_uscc -> Nullable<Text>,
        bank_uscc -> Nullable<Text>,
        categories -> Nullable<Text>,
        decision -> Nullable<Text>,
    }
}

diesel::table! {
    log_records (seq) {
        seq -> BigInt,
        salt -> Nullable<Binary>,
        record -> Nullable<Text>,
    }
}

diesel::table! {
    log_nodes (level, idx) {
        level -> SmallInt,
        idx -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    log_heads (chain) {
        chain -> Binary,
        seq -> BigInt,
    }
}

diesel::table! {
    checkpoints (size) {
        size -> BigInt,
        note -> Text,
        created_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    participants,
    participant_keys,
    grants,
    grant_parties,
    log_leaves,
    log_records
);

diesel::table! {
    settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    notices (id) {
        id -> BigInt,
        uscc -> Text,
        kind -> Text,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    portal_sessions (token_sha256) {
        token_sha256 -> Text,
        participant_id -> BigInt,
        did -> Text,
        csrf -> Text,
        created_at -> BigInt,
        last_seen -> BigInt,
        expires_at -> BigInt,
        ended_at -> Nullable<BigInt>,
    }
}
