//! `consentry serve`: run the node (default) or a platform.

use std::sync::Arc;

use actix_web::{App, HttpServer, web};

use super::{CliError, CliResult};
use crate::clock::SystemClock;
use crate::config::{Config, ServeArgs, ServiceRole};

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONSENTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

pub(super) fn run(args: ServeArgs) -> CliResult {
    init_tracing();
    let mut config = Config::resolve(&args).map_err(|e| CliError::usage(e.to_string()))?;
    // A serving process is reached at its public URL: it fixes the log origin if none is yet.
    config.fix_origin = true;
    match config.role {
        ServiceRole::Node => serve_node(config),
        ServiceRole::Platform => crate::platform::serve(config).map_err(|e| CliError::usage(e.to_string())),
    }
}

fn serve_node(config: Config) -> CliResult {
    let (node, created) = crate::node::start::open(&config, Arc::new(SystemClock))
        .map_err(|e| CliError::usage(e.to_string()))?;
    actix_web::rt::System::new().block_on(async move {
        let node = web::Data::new(node);
        crate::node::background::spawn(node.clone().into_inner(), config.checkpoint_interval_secs);
        let data = node.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .configure(crate::http::configure)
        })
        .workers(config.workers)
        .bind(&config.listen)
        .map_err(|e| CliError::usage(format!("cannot listen on {}: {e}", config.listen)))?;
        let addrs: Vec<String> = server.addrs().iter().map(|a| format!("http://{a}")).collect();
        if created {
            println!(
                "first start: created the node key {} in {}",
                node.did(),
                config.data_dir.display()
            );
        }
        println!(
            "consentry node listening on {} (public URL {}, DID {}, database {})",
            addrs.join(", "),
            config.public_url,
            node.did(),
            crate::storage::redact(&config.database_url)
        );
        server.run().await.map_err(|e| CliError::usage(e.to_string()))
    })
}
