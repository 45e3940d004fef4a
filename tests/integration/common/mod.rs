//! Helpers shared by the integration tests.

pub mod cluster;
pub mod interop;
pub mod server;

use std::path::PathBuf;

/// Path of a file under `spec/vectors/`.
pub fn vector_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("spec/vectors")
        .join(rel)
}

/// Contents of a file under `spec/vectors/`, as text.
pub fn vector(rel: &str) -> String {
    std::fs::read_to_string(vector_path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Contents of a JSON file under `spec/vectors/`.
pub fn vector_json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&vector(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for a child process to listen on; another
/// process could take it first, which the callers' start-up waits would report).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Parses an RFC 3339 instant.
pub fn at(text: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}
