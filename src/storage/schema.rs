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
        submitted_seq -> BigInt,
    }
}

diesel::table! {
    grant_categories (grant_id, category) {
        grant_id -> Text,
        category -> Text,
        submitted_seq -> BigInt,
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
        content_id -> Nullable<Text>,
        batch_id -> Nullable<Text>,
        version -> BigInt,
        superseded_by -> Nullable<Text>,
        superseded_at -> Nullable<BigInt>,
    }
}

// Signed data intake (spec/intake.md).
diesel::table! {
    department_providers (participant_id) {
        participant_id -> BigInt,
        provider -> Text,
    }
}

diesel::table! {
    intake_batches (id) {
        id -> BigInt,
        batch_id -> Text,
        provider -> Text,
        submitter_uscc -> Text,
        submitter_role -> Text,
        signer_did -> Text,
        reference -> Nullable<Text>,
        records -> BigInt,
        new_records -> BigInt,
        new_versions -> BigInt,
        already_held -> BigInt,
        evidence -> Text,
        log_index -> BigInt,
        received_at -> BigInt,
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

diesel::table! {
    log_keys (seq) {
        seq -> BigInt,
        note -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    evaluations (id) {
        id -> Text,
        enterprise_uscc -> Text,
        requested_by -> Text,
        grant_id -> Text,
        model_id -> Text,
        model_version -> BigInt,
        grade -> Text,
        score -> BigInt,
        status_list -> BigInt,
        status_index -> BigInt,
        issued_at -> BigInt,
        valid_until -> BigInt,
        withdrawn_at -> Nullable<BigInt>,
        log_index -> BigInt,
        credential -> Text,
    }
}

diesel::table! {
    public_displays (enterprise_uscc) {
        enterprise_uscc -> Text,
        authorized -> Bool,
        evaluation_id -> Nullable<Text>,
        changed_at -> BigInt,
        evidence -> Text,
        log_index -> BigInt,
    }
}

diesel::table! {
    loans (id) {
        id -> BigInt,
        bank_uscc -> Text,
        loan_ref -> Text,
        enterprise_uscc -> Text,
        platform_uscc -> Text,
        region -> Text,
        state -> Text,
        approved_amount -> BigInt,
        disbursed -> BigInt,
        balance -> BigInt,
        term_months -> Nullable<BigInt>,
        rate_band -> Nullable<Text>,
        security -> Nullable<Text>,
        first_loan -> Nullable<Bool>,
        last_on -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        industry -> Text,
    }
}

diesel::table! {
    loan_reports (id) {
        id -> BigInt,
        bank_uscc -> Text,
        report_id -> Text,
        loan_id -> BigInt,
        outcome -> Text,
        event_on -> Text,
        report -> Text,
        evidence -> Text,
        log_index -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    stats_loans (month, region, industry, platform, bank) {
        month -> Text,
        region -> Text,
        industry -> Text,
        platform -> Text,
        bank -> Text,
        applications -> BigInt,
        approvals -> BigInt,
        approved_amount -> BigInt,
        credit_approvals -> BigInt,
        credit_amount -> BigInt,
        first_loans -> BigInt,
        disbursed -> BigInt,
        repaid -> BigInt,
        overdue_events -> BigInt,
        defaults -> BigInt,
        defaulted -> BigInt,
    }
}

diesel::table! {
    bulletins (month) {
        month -> Text,
        log_size -> BigInt,
        content -> Text,
        sha256 -> Text,
        signature -> Text,
        signer -> Text,
        csv -> Text,
        generated_at -> BigInt,
    }
}

diesel::table! {
    risk_alerts (id) {
        id -> BigInt,
        public_id -> Text,
        enterprise_uscc -> Text,
        bank_uscc -> Text,
        platform_uscc -> Text,
        grant_id -> Text,
        record_id -> BigInt,
        rule -> Text,
        severity -> Text,
        category -> Text,
        record_date -> Text,
        outcome -> Text,
        body -> Text,
        log_index -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    record_cursors (reader) {
        reader -> Text,
        last_record -> BigInt,
    }
}

diesel::table! {
    feed_subscriptions (id) {
        id -> BigInt,
        public_id -> Text,
        bank_uscc -> Text,
        regions -> Text,
        categories -> Text,
        created_at -> BigInt,
        deleted_at -> Nullable<BigInt>,
        industries -> Text,
    }
}

diesel::table! {
    enterprise_industries (uscc) {
        uscc -> Text,
        industry -> Text,
        source -> Text,
        updated_at -> BigInt,
    }
}

diesel::table! {
    feed_batches (id) {
        id -> BigInt,
        public_id -> Text,
        bank_uscc -> Text,
        subscription_id -> BigInt,
        enterprises -> BigInt,
        records -> BigInt,
        first_index -> BigInt,
        last_index -> BigInt,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    platform_regions (platform_uscc, region) {
        platform_uscc -> Text,
        region -> Text,
    }
}

diesel::table! {
    feed_pushed (subscription_id, record_id) {
        subscription_id -> BigInt,
        record_id -> BigInt,
    }
}

diesel::joinable!(loan_reports -> loans (loan_id));

diesel::allow_tables_to_appear_in_same_query!(
    participants,
    enterprise_industries,
    participant_keys,
    grants,
    grant_parties,
    grant_categories,
    log_leaves,
    log_records,
    loans,
    loan_reports
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

diesel::table! {
    objections (id) {
        id -> Text,
        enterprise_uscc -> Text,
        target_kind -> Text,
        target_ref -> Text,
        reason -> Text,
        attachments -> Text,
        filing -> Text,
        filing_sha256 -> Text,
        received_by -> Text,
        received_role -> Text,
        filed_at -> BigInt,
        received_at -> BigInt,
        deadline_at -> Nullable<BigInt>,
        forwarded_at -> Nullable<BigInt>,
        state -> Text,
        overdue_flagged_at -> Nullable<BigInt>,
        calendar_flagged_at -> Nullable<BigInt>,
        updated_at -> BigInt,
    }
}

diesel::table! {
    objection_steps (id) {
        id -> BigInt,
        objection_id -> Text,
        step -> Text,
        actor_uscc -> Text,
        actor_role -> Text,
        actor_did -> Text,
        statement -> Text,
        sha256 -> Text,
        prev_sha256 -> Nullable<Text>,
        at -> BigInt,
        log_seq -> BigInt,
    }
}

diesel::table! {
    data_corrections (id) {
        id -> BigInt,
        record_id -> BigInt,
        objection_id -> Text,
        old_body -> Text,
        new_body -> Text,
        at -> BigInt,
        log_seq -> BigInt,
    }
}

// Monitoring statistics (spec/statistics.md).

diesel::table! {
    stats_access (day, kind, platform, bank) {
        day -> BigInt,
        kind -> SmallInt,
        platform -> Text,
        bank -> Text,
        entries -> BigInt,
    }
}

diesel::table! {
    stats_access_category (day, kind, platform, bank, category) {
        day -> BigInt,
        kind -> SmallInt,
        platform -> Text,
        bank -> Text,
        category -> Text,
        entries -> BigInt,
    }
}

diesel::table! {
    stats_grants (state, until_day) {
        state -> Text,
        until_day -> BigInt,
        grants -> BigInt,
    }
}

diesel::table! {
    stats_participants (role, state) {
        role -> Text,
        state -> Text,
        participants -> BigInt,
    }
}

// Notifications (spec/notifications.md): webhook endpoints and the delivery outbox.
diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        public_id -> Text,
        owner_uscc -> Text,
        owner_role -> Text,
        url -> Text,
        events -> Text,
        description -> Nullable<Text>,
        state -> Text,
        next_seq -> BigInt,
        next_attempt_at -> Nullable<BigInt>,
        lease_owner -> Nullable<Text>,
        lease_until -> BigInt,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    webhook_outbox (id) {
        id -> BigInt,
        endpoint_id -> BigInt,
        seq -> BigInt,
        event_id -> Text,
        event_type -> Text,
        body -> Text,
        state -> Text,
        attempts -> BigInt,
        created_at -> BigInt,
        next_attempt_at -> BigInt,
        last_attempt_at -> Nullable<BigInt>,
        last_status -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    consent_requests (seq) {
        seq -> BigInt,
        id -> Text,
        requester_uscc -> Text,
        requester_role -> Text,
        enterprise_uscc -> Text,
        terms -> Text,
        valid_from -> BigInt,
        valid_until -> BigInt,
        message -> Text,
        state -> Text,
        grant_id -> Nullable<Text>,
        decline_reason -> Nullable<Text>,
        created_at -> BigInt,
        expires_at -> BigInt,
        answered_at -> Nullable<BigInt>,
    }
}
