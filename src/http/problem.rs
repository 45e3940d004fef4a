//! The one place errors become HTTP: RFC 9457 `application/problem+json` with a stable `type`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::error::{Error, PROBLEM_BASE};

/// `application/problem+json`.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a `503` answer asks the client to wait before trying again (`Retry-After`): about how
/// long the node takes to notice that the database is back.
pub const RETRY_AFTER_SECS: u32 = 1;

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::Refused { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::Report { conflict: true, .. } => StatusCode::CONFLICT,
            Self::Report { .. } => StatusCode::FORBIDDEN,
            Self::Grant(_) | Self::Batch(_) | Self::ConsentRequest(_) | Self::ExceedsRequest(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Storage(_) | Self::Upstream(_) | Self::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let code = self.code();
        // Internal details (SQL, paths) are logged, never sent.
        let detail = match self {
            Self::Storage(e) => {
                // An outage is logged when it starts and when it ends, not once per request.
                if !e.is_connection() {
                    tracing::error!(error = %e, "storage failure");
                }
                "the database is unavailable; nothing was changed".to_owned()
            }
            Self::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                "internal error; nothing was changed".to_owned()
            }
            other => other.to_string(),
        };
        let mut body = json!({
            "type": format!("{PROBLEM_BASE}{code}"),
            "title": title(code),
            "status": status.as_u16(),
            "detail": detail,
        });
        match self {
            Self::Grant(e) => {
                body["reasons"] = e
                    .reasons()
                    .into_iter()
                    .map(|(c, m)| json!({"code": c, "message": m}))
                    .collect();
            }
            Self::Refused { reasons, log_index } => {
                body["reasons"] = serde_json::to_value(reasons).unwrap_or_default();
                if let Some(i) = log_index {
                    body["logIndex"] = json!(i);
                }
            }
            Self::Report { reasons, .. } | Self::ConsentRequest(reasons) | Self::ExceedsRequest(reasons) => {
                body["reasons"] = serde_json::to_value(reasons).unwrap_or_default();
            }
            Self::Batch(problems) => {
                body["reasons"] = serde_json::to_value(problems).unwrap_or_default();
            }
            Self::Invalid { code, .. } => body["reasons"] = json!([{"code": code, "message": detail}]),
            Self::NotReady(checks) => {
                body["checks"] = checks.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
            }
            _ => {}
        }
        let mut resp = HttpResponse::build(status);
        resp.content_type(PROBLEM_JSON);
        if matches!(self, Self::Unauthenticated(_)) {
            resp.insert_header(("WWW-Authenticate", "Bearer error=\"invalid_token\""));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.insert_header(("Retry-After", RETRY_AFTER_SECS.to_string()));
        }
        resp.body(body.to_string())
    }
}

fn title(code: &str) -> &'static str {
    match code {
        "unauthenticated" => "Authentication required",
        "forbidden" => "Not allowed for this caller",
        "not-found" => "Not found",
        "method-not-allowed" => "Method not allowed",
        "conflict" => "Conflicts with the current state",
        "grant-invalid" => "The grant does not verify",
        "release-refused" => "Release refused",
        "report-refused" => "Loan report refused",
        "report-conflict" => "Loan report conflicts with the loan",
        "batch-refused" => "Data batch refused",
        "consent-request-invalid" => "The consent request is not acceptable",
        "grant-exceeds-request" => "The grant goes beyond the consent request",
        "payload-too-large" => "Request body too large",
        "storage-unavailable" => "Storage unavailable",
        "upstream-unavailable" => "Upstream unavailable",
        "internal" => "Internal error",
        _ => "Invalid request",
    }
}
