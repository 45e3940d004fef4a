//! `consentry serve`: run the node (default) or a platform.

use std::sync::Arc;

use actix_web::{App, HttpServer, web};

use super::{CliError, CliResult};
use crate::clock::SystemClock;
use crate::config::{Config, LogFormat, ServeArgs, ServiceRole};

/// Sets up the log lines (stderr): level from `CONSENTRY_LOG` (default `info`), as text or as one
/// JSON object a line carrying the current request's span (`request_id`; spec/ops/README.md §3).
fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONSENTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

pub(super) fn run(args: ServeArgs) -> CliResult {
    let mut config = Config::resolve(&args).map_err(|e| CliError::usage(e.to_string()))?;
    init_tracing(config.log_format);
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
        if let Some(addr) = &config.metrics_listen {
            let bound = crate::http::routes::metrics::serve_dedicated(node.clone(), addr)
                .map_err(|e| CliError::usage(format!("cannot listen on {addr} (metrics): {e}")))?;
            println!("metrics on {bound}/metrics");
        }
        server.run().await.map_err(|e| CliError::usage(e.to_string()))
    })
}
