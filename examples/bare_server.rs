//! The bare verify-and-append server: the baseline `examples/load_releases` measures the node
//! against (issue #15, BENCHMARKS.md "Releases over HTTP").
//!
//! ```text
//! cargo run --release --example bare_server -- --listen 127.0.0.1:8090 --db PATH --setup FILE [--workers 2]
//! ```
//!
//! It does, per `POST /v1/releases`, the least a release must do and nothing else:
//!
//! * one `verify_strict` of the bearer token's Ed25519 signature (a client assertion as the node's
//!   callers make them, `consentry::node::auth::make`) with the one caller key it knows;
//! * one JSON parse of the assertion's claims and one of the body;
//! * an in-memory lookup of the body's `grant` in the set of grants it was given;
//! * a group-committed append of one row (the assertion id, the grant, the body's SHA-256) to SQLite in
//!   WAL mode with `synchronous=FULL` — one committer thread, one transaction and one fsync per batch —
//!   answered only after the commit;
//! * a JSON answer with the row's index.
//!
//! `GET /healthz` answers `ok`. The set-up file is JSON: `{"caller": "did:key:…", "grants": ["urn:uuid:…", …]}`.
//! No authorization, no log, no receipt, no replay check beyond the database's primary key: it is the
//! floor, not a service.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::sync::mpsc;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde::Deserialize;
use sha2::Digest;

/// A row to append and where to send its index.
struct Job {
    jti: String,
    grant: String,
    digest: [u8; 32],
    reply: tokio::sync::oneshot::Sender<Result<i64, String>>,
}

struct Shared {
    key: ed25519_dalek::VerifyingKey,
    grants: HashSet<String>,
    queue: mpsc::SyncSender<Job>,
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
}

#[derive(Deserialize)]
struct Body {
    grant: Option<String>,
}

fn problem(status: u16, detail: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .content_type("application/problem+json")
        .body(format!("{{\"status\":{status},\"detail\":\"{detail}\"}}"))
}

async fn release(req: HttpRequest, body: web::Bytes, s: web::Data<Shared>) -> HttpResponse {
    let Some(token) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return problem(401, "no bearer token");
    };
    let Some((signed, sig)) = token.rsplit_once('.') else {
        return problem(401, "not a JWS");
    };
    let Some((_, payload)) = signed.split_once('.') else {
        return problem(401, "not a JWS");
    };
    let (Ok(sig), Ok(claims)) = (URL_SAFE_NO_PAD.decode(sig), URL_SAFE_NO_PAD.decode(payload)) else {
        return problem(401, "bad base64url");
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(&sig) else {
        return problem(401, "bad signature");
    };
    if s.key.verify_strict(signed.as_bytes(), &sig).is_err() {
        return problem(401, "bad signature");
    }
    let Ok(claims) = serde_json::from_slice::<Claims>(&claims) else {
        return problem(401, "bad claims");
    };
    let Ok(parsed) = serde_json::from_slice::<Body>(&body) else {
        return problem(400, "bad body");
    };
    let grant = parsed.grant.unwrap_or_default();
    if !s.grants.contains(&grant) {
        return problem(403, "unknown grant");
    }
    let (reply, rx) = tokio::sync::oneshot::channel();
    let job = Job {
        jti: claims.jti,
        grant,
        digest: sha2::Sha256::digest(&body).into(),
        reply,
    };
    if s.queue.try_send(job).is_err() {
        return problem(503, "queue full");
    }
    match rx.await {
        Ok(Ok(index)) => HttpResponse::Ok()
            .content_type("application/json")
            .body(format!("{{\"logIndex\":{index}}}")),
        Ok(Err(e)) if e == "assertion replayed" => problem(401, &e),
        Ok(Err(e)) => problem(500, &e),
        Err(_) => problem(500, "committer gone"),
    }
}

/// The group committer: every queued job in one transaction, one fsync, then the answers.
fn committer(path: String, rx: mpsc::Receiver<Job>) {
    let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
    conn.batch_execute(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, jti TEXT NOT NULL UNIQUE, grant_id TEXT NOT NULL, digest BLOB NOT NULL);",
    )
    .unwrap();
    let mut next: i64 = diesel::sql_query("SELECT COUNT(*) AS n FROM log")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n;
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < 1024 {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let start = next;
        // A replayed assertion id is skipped (and refused), not a failure of the batch.
        let r = conn.immediate_transaction(|c| -> QueryResult<Vec<Option<i64>>> {
            let mut seq = start;
            let mut out = Vec::with_capacity(jobs.len());
            for j in &jobs {
                let n = diesel::sql_query(
                    "INSERT OR IGNORE INTO log (seq, jti, grant_id, digest) VALUES (?, ?, ?, ?)",
                )
                .bind::<diesel::sql_types::BigInt, _>(seq)
                .bind::<diesel::sql_types::Text, _>(&j.jti)
                .bind::<diesel::sql_types::Text, _>(&j.grant)
                .bind::<diesel::sql_types::Binary, _>(&j.digest[..])
                .execute(c)?;
                out.push((n == 1).then_some(seq));
                seq += i64::from(n == 1);
            }
            Ok(out)
        });
        match r {
            Ok(seqs) => {
                for (j, s) in jobs.into_iter().zip(seqs) {
                    next = next.max(s.map_or(next, |s| s + 1));
                    let _ = j.reply.send(s.ok_or_else(|| "assertion replayed".to_owned()));
                }
            }
            Err(e) => {
                for j in jobs {
                    let _ = j.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(Deserialize)]
struct Setup {
    caller: String,
    grants: Vec<String>,
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let listen = arg("--listen").unwrap_or_else(|| "127.0.0.1:8090".into());
    let db = arg("--db").expect("--db PATH");
    let workers: usize = arg("--workers").and_then(|w| w.parse().ok()).unwrap_or(2);
    let setup: Setup =
        serde_json::from_slice(&std::fs::read(arg("--setup").expect("--setup FILE"))?).expect("set-up JSON");
    let did = consentry::identity::DidKey::parse(&setup.caller).expect("caller did:key");
    let key = ed25519_dalek::VerifyingKey::from_bytes(&did.public_key().to_bytes()).unwrap();
    let (queue, rx) = mpsc::sync_channel(4096);
    std::thread::spawn(move || committer(db, rx));
    let shared = web::Data::new(Shared {
        key,
        grants: setup.grants.into_iter().collect(),
        queue,
    });
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route(
                    "/healthz",
                    web::get().to(|| async { HttpResponse::Ok().body("ok") }),
                )
                .route("/v1/releases", web::post().to(release))
        })
        .workers(workers)
        .bind(listen)?
        .run()
        .await
    })
}
