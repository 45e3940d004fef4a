//! Service configuration: command-line flags over `CONSENTRY_*` environment variables over an
//! optional TOML file over built-in defaults. Resolved and validated once at start, then passed in
//! (no global).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Which operator runs this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ServiceRole {
    /// The provincial node: holds the data, the registry, the grants and the access log.
    Node,
    /// A financing platform: serves its banks, fetches from the node under grants.
    Platform,
}

/// The TOML file's contents. Every field optional; unknown fields are an error.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    /// Data folder.
    pub data_dir: Option<PathBuf>,
    /// Listen address.
    pub listen: Option<String>,
    /// Database URL.
    pub database_url: Option<String>,
    /// Public base URL.
    pub public_url: Option<String>,
    /// Role.
    pub role: Option<ServiceRole>,
    /// Node URL (platform role).
    pub node_url: Option<String>,
    /// Platform's USCC (platform role).
    pub platform_uscc: Option<String>,
    /// HTTP worker threads.
    pub workers: Option<usize>,
    /// Largest group commit.
    pub log_batch_max: Option<usize>,
    /// Seconds between checkpoints.
    pub checkpoint_interval_secs: Option<u64>,
    /// Catalog folder (catalog.json, letters.json).
    pub catalog_dir: Option<PathBuf>,
    /// Witness URLs whose cosignatures the node collects.
    pub witnesses: Option<Vec<String>>,
    /// Allow plain-http node URLs for a platform (testing only).
    pub insecure_allow_http: Option<bool>,
    /// Accept `http://` webhook endpoints on loopback hosts (testing only; spec/notifications.md).
    pub insecure_webhooks: Option<bool>,
    /// First webhook retry delay in milliseconds (doubles per failed attempt).
    pub webhook_retry_base_ms: Option<u64>,
    /// Longest webhook retry delay in milliseconds.
    pub webhook_retry_cap_ms: Option<u64>,
    /// Working-day calendar file (spec/calendar/); default: the built-in one.
    pub calendar: Option<PathBuf>,
    /// Longest wait for a database connection, in milliseconds.
    pub database_wait_ms: Option<u64>,
}

/// Values given on the command line or in the environment (clap fills these).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); values there are overridden by environment and flags.
    #[arg(long, env = "CONSENTRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data folder: database, node key, caches. Created if missing. Default ./consentry-data.
    #[arg(long, env = "CONSENTRY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on. Default 127.0.0.1:8080.
    #[arg(long, env = "CONSENTRY_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Database: sqlite://PATH or postgres://… Default: SQLite in the data folder.
    #[arg(long, env = "DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Base URL others reach this service at (status-list URLs, assertion audience).
    /// Default http://ADDR.
    #[arg(long, env = "CONSENTRY_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// node (default) or platform.
    #[arg(long, env = "CONSENTRY_ROLE", value_enum)]
    pub role: Option<ServiceRole>,
    /// The node's URL (platform role).
    #[arg(long, env = "CONSENTRY_NODE_URL", value_name = "URL")]
    pub node: Option<String>,
    /// This platform's Unified Social Credit Code (platform role).
    #[arg(long, env = "CONSENTRY_PLATFORM_USCC", value_name = "USCC")]
    pub platform_uscc: Option<String>,
    /// HTTP worker threads. Default: number of CPUs.
    #[arg(long, env = "CONSENTRY_WORKERS")]
    pub workers: Option<usize>,
    /// Catalog folder (set by the global --catalog-dir).
    #[arg(skip)]
    pub catalog_dir: Option<PathBuf>,
    /// Seconds between signed checkpoints of the access log. Default 1.
    #[arg(long, env = "CONSENTRY_CHECKPOINT_INTERVAL")]
    pub checkpoint_interval_secs: Option<u64>,
    /// A witness URL to collect cosignatures from (repeatable).
    #[arg(long = "witness", env = "CONSENTRY_WITNESSES", value_delimiter = ',')]
    pub witnesses: Vec<String>,
    /// Accept http:// webhook endpoints on loopback hosts (testing only).
    #[arg(long, env = "CONSENTRY_INSECURE_WEBHOOKS")]
    pub insecure_webhooks: bool,
    /// Working-day calendar file (format consentry-workday-calendar/v1), re-read when it changes.
    /// Default: the built-in calendar.
    #[arg(long, env = "CONSENTRY_CALENDAR", value_name = "FILE")]
    pub calendar: Option<PathBuf>,
    /// Longest wait for a database connection, in milliseconds: past it a request answers
    /// 503 storage-unavailable with Retry-After instead of hanging while the database is away.
    /// Default 1000.
    #[arg(long, env = "CONSENTRY_DATABASE_WAIT_MS", value_name = "MS")]
    pub database_wait_ms: Option<u64>,
}

/// Webhook delivery settings (spec/notifications.md §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Accept `http://` endpoint URLs whose host is a loopback address (`localhost`, `127.0.0.0/8`,
    /// `[::1]`). Every other endpoint must be `https://`. Default false; for tests and local trials.
    pub allow_insecure: bool,
    /// Delay before the first retry (ms); it doubles per failed attempt. Default 1000.
    pub retry_base_ms: u64,
    /// Longest delay between retries (ms). Default 900000 (15 minutes).
    pub retry_cap_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            allow_insecure: false,
            retry_base_ms: 1000,
            retry_cap_ms: 900_000,
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data folder.
    pub data_dir: PathBuf,
    /// Listen address.
    pub listen: String,
    /// Database URL (may contain a password: never log it unredacted).
    pub database_url: String,
    /// Public base URL, without trailing slash.
    pub public_url: String,
    /// Whether this process may fix the access log's origin from [`Self::public_url`] when the
    /// database has none yet: `serve` may (it serves at that URL), and so may any command given the
    /// public URL explicitly; an `admin` command run on a fresh database with the default URL may not
    /// (issue #9: it would pin `127.0.0.1:8080` for ever).
    pub fix_origin: bool,
    /// Role.
    pub role: ServiceRole,
    /// The node's URL (platform role).
    pub node_url: Option<String>,
    /// This platform's USCC (platform role).
    pub platform_uscc: Option<String>,
    /// HTTP workers.
    pub workers: usize,
    /// Largest group commit.
    pub log_batch_max: usize,
    /// Seconds between checkpoints.
    pub checkpoint_interval_secs: u64,
    /// Catalog folder.
    pub catalog_dir: Option<PathBuf>,
    /// Witness URLs.
    pub witnesses: Vec<String>,
    /// Working-day calendar file, if not the built-in one.
    pub calendar: Option<PathBuf>,
    /// Webhook delivery settings.
    pub webhooks: WebhookConfig,
    /// Longest wait for a database connection (ms) before a request fails with `503` and
    /// `Retry-After`. Default 1000.
    pub database_wait_ms: u64,
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Resolves flags/environment over the file over defaults, and validates.
    pub fn resolve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("consentry-data"));
        let listen = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("consentry.sqlite3").display()));
        crate::storage::backend_of(&database_url).map_err(|e| ConfigError(e.to_string()))?;
        let explicit_public_url = args.public_url.is_some() || file.public_url.is_some();
        let public_url = args
            .public_url
            .clone()
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "public URL {public_url:?} must be http(s)://"
            )));
        }
        let role = args.role.or(file.role).unwrap_or(ServiceRole::Node);
        let node_url = args
            .node
            .clone()
            .or(file.node_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        let platform_uscc = args.platform_uscc.clone().or(file.platform_uscc);
        if role == ServiceRole::Platform {
            if node_url.is_none() {
                return Err(ConfigError("the platform role needs --node URL".into()));
            }
            match &platform_uscc {
                None => return Err(ConfigError("the platform role needs --platform-uscc".into())),
                Some(u) => {
                    crate::ids::Uscc::parse(u).map_err(|e| ConfigError(format!("--platform-uscc: {e}")))?;
                }
            }
        }
        let workers = args
            .workers
            .or(file.workers)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
        let defaults = WebhookConfig::default();
        let retry_base_ms = file.webhook_retry_base_ms.unwrap_or(defaults.retry_base_ms);
        let retry_cap_ms = file.webhook_retry_cap_ms.unwrap_or(defaults.retry_cap_ms);
        if retry_base_ms == 0 || retry_cap_ms < retry_base_ms {
            return Err(ConfigError(
                "webhook-retry-base-ms must be at least 1 and at most webhook-retry-cap-ms".into(),
            ));
        }
        let webhooks = WebhookConfig {
            allow_insecure: args.insecure_webhooks || file.insecure_webhooks.unwrap_or(false),
            retry_base_ms,
            retry_cap_ms,
        };
        let mut witnesses = args.witnesses.clone();
        if witnesses.is_empty() {
            witnesses = file.witnesses.unwrap_or_default();
        }
        Ok(Self {
            data_dir,
            listen,
            database_url,
            public_url,
            fix_origin: explicit_public_url,
            role,
            node_url,
            platform_uscc,
            workers: workers.clamp(1, 64),
            log_batch_max: file.log_batch_max.unwrap_or(1024).clamp(1, 16_384),
            checkpoint_interval_secs: args
                .checkpoint_interval_secs
                .or(file.checkpoint_interval_secs)
                .unwrap_or(1)
                .max(1),
            catalog_dir: args.catalog_dir.clone().or(file.catalog_dir),
            witnesses,
            calendar: args.calendar.clone().or(file.calendar),
            webhooks,
            database_wait_ms: args
                .database_wait_ms
                .or(file.database_wait_ms)
                .unwrap_or(1000)
                .clamp(10, 600_000),
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\ndata-dir = \"/tmp/x\"\n").unwrap();
        let args = ServeArgs {
            config: Some(file.clone()),
            data_dir: Some("/tmp/y".into()),
            ..Default::default()
        };
        let c = Config::resolve(&args).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/y"));
        assert_eq!(c.database_url, "sqlite:///tmp/y/consentry.sqlite3");
        assert_eq!(c.public_url, "http://127.0.0.1:9000");
        std::fs::write(&file, "lissten = 1\n").unwrap();
        assert!(
            Config::resolve(&ServeArgs {
                config: Some(file),
                ..Default::default()
            })
            .is_err()
        );
    }

    #[test]
    fn platform_role_needs_node_and_uscc() {
        let args = ServeArgs {
            role: Some(ServiceRole::Platform),
            ..Default::default()
        };
        assert!(Config::resolve(&args).is_err());
    }
}
