//! Service configuration: command-line flags over `CONSENTRY_*` environment variables over an
//! optional TOML file over built-in defaults. Resolved and validated once at start, then passed in
//! (no global).
//!
//! Every key is declared once, as a field of [`ServeArgs`]: its flag and environment variable (clap)
//! and its TOML key (serde) are read off that one field, and the layering of the sources is derived
//! from the same list ([`ServeArgs::over`]). [`Config`] is the result: every key resolved to its
//! value in force, defaults applied and checked. An unknown TOML key is an error, and so is an
//! unknown flag; a key that nothing reads is not declared (the former `insecure-allow-http`, never
//! read, is now refused as unknown). The environment is shared with other programs, so variables
//! are read by name only: an unknown `CONSENTRY_*` variable is ignored.

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

/// Declares the configuration keys once. The struct it is given is at the same time the command
/// line and environment (`clap`: `--flag`, `env = …`), and the TOML file (`serde`: the field's name
/// in kebab-case, unknown keys refused); it also gets `over`, the layering of one source over
/// another, field by field, and `FIELDS`, the name of every field. A key is added by adding one
/// field here; its default and checks go in [`Config::resolve`]. The witness declares its own keys
/// with it too (`crate::witness::WitnessArgs`).
macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $name {
            /// The name of every field, in order: its TOML key is the name in kebab-case (but
            /// `config`, which only the command line and the environment give).
            pub const FIELDS: &[&str] = &[$(stringify!($field)),*];

            /// These values over `lower`, field by field: a value set here wins; one left unset
            /// (`None`, a switch that is off, an empty list) falls through to `lower`.
            pub fn over(self, lower: Self) -> Self {
                Self { $( $field: $crate::config::Layer::over(self.$field, lower.$field), )* }
            }
        }
    };
}

pub(crate) use settings;

/// How a value of one source is laid over the value of a lower one.
pub(crate) trait Layer {
    fn over(self, lower: Self) -> Self;
}

impl<T> Layer for Option<T> {
    fn over(self, lower: Self) -> Self {
        self.or(lower)
    }
}

/// A switch is on when any source turns it on.
impl Layer for bool {
    fn over(self, lower: Self) -> Self {
        self || lower
    }
}

/// A list given by a higher source replaces the lower one whole.
impl<T> Layer for Vec<T> {
    fn over(self, lower: Self) -> Self {
        if self.is_empty() { lower } else { self }
    }
}

settings! {
    /// Every configuration key, declared once: a command-line flag and its environment variable
    /// (where the key has them; `#[arg(skip)]` marks the TOML-only keys), and a TOML key (the field's
    /// name in kebab-case). Unknown TOML keys are an error. [`Config::resolve`] lays the command line
    /// and environment (clap: the flag over the variable) over the file, and the file over the
    /// defaults.
    #[derive(Debug, Clone, Default, clap::Args, Deserialize)]
    #[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
    pub struct ServeArgs {
        /// Configuration file (TOML); values there are overridden by environment and flags.
        #[arg(long, env = "CONSENTRY_CONFIG", value_name = "FILE")]
        #[serde(skip)]
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
        #[arg(long = "node", env = "CONSENTRY_NODE_URL", value_name = "URL")]
        pub node_url: Option<String>,
        /// This platform's Unified Social Credit Code (platform role).
        #[arg(long, env = "CONSENTRY_PLATFORM_USCC", value_name = "USCC")]
        pub platform_uscc: Option<String>,
        /// HTTP worker threads. Default: number of CPUs.
        #[arg(long, env = "CONSENTRY_WORKERS")]
        pub workers: Option<usize>,
        /// Largest group commit of the access log (TOML only). Default 1024.
        #[arg(skip)]
        pub log_batch_max: Option<usize>,
        /// Seconds between signed checkpoints of the access log. Default 1.
        #[arg(long, env = "CONSENTRY_CHECKPOINT_INTERVAL")]
        pub checkpoint_interval_secs: Option<u64>,
        /// Catalog folder (catalog.json, letters.json). On the command line it is the global
        /// `--catalog-dir` (`CONSENTRY_CATALOG_DIR`) of every command, which `serve` copies here.
        #[arg(skip)]
        pub catalog_dir: Option<PathBuf>,
        /// A witness URL to collect cosignatures from (repeatable).
        #[arg(long = "witness", env = "CONSENTRY_WITNESSES", value_delimiter = ',')]
        pub witnesses: Vec<String>,
        /// Accept http:// webhook endpoints on loopback hosts (testing only).
        #[arg(long, env = "CONSENTRY_INSECURE_WEBHOOKS")]
        pub insecure_webhooks: bool,
        /// First webhook retry delay in milliseconds, doubling per failed attempt (TOML only).
        /// Default 1000.
        #[arg(skip)]
        pub webhook_retry_base_ms: Option<u64>,
        /// Longest webhook retry delay in milliseconds (TOML only). Default 900000.
        #[arg(skip)]
        pub webhook_retry_cap_ms: Option<u64>,
        /// Working-day calendar file (format consentry-workday-calendar/v1), re-read when it changes.
        /// Default: the built-in calendar.
        #[arg(long, env = "CONSENTRY_CALENDAR", value_name = "FILE")]
        pub calendar: Option<PathBuf>,
        /// Industry table (GB/T 4754, format consentry-industries/v1, spec/industries.md), checked
        /// at start. Default: none, and no enterprise is classified by industry.
        #[arg(long, env = "CONSENTRY_INDUSTRIES", value_name = "FILE")]
        pub industries: Option<PathBuf>,
        /// Longest wait for a database connection, in milliseconds: past it a request answers
        /// 503 storage-unavailable with Retry-After instead of hanging while the database is away.
        /// Default 1000.
        #[arg(long, env = "CONSENTRY_DATABASE_WAIT_MS", value_name = "MS")]
        pub database_wait_ms: Option<u64>,
        /// The platform's own credit-evaluation model (JSON, `spec/evaluation.md` §6), used for its
        /// banks' evaluation requests instead of the node's built-in model; checked at start.
        /// Platform role only. Default: the built-in model.
        #[arg(long, env = "CONSENTRY_EVALUATION_MODEL", value_name = "FILE")]
        pub evaluation_model: Option<PathBuf>,
        /// Bearer token that opens `GET /metrics` on the main listener (spec/ops/README.md §2).
        /// Default: none, and `/metrics` answers 404 there.
        #[arg(long, env = "CONSENTRY_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true)]
        pub metrics_token: Option<String>,
        /// A separate address serving only `GET /metrics` (to the token's bearer when a token is
        /// set). Default: none.
        #[arg(long, env = "CONSENTRY_METRICS_LISTEN", value_name = "ADDR")]
        pub metrics_listen: Option<String>,
        /// Log lines as `text` (default) or `json` (one JSON object a line, with the request id).
        #[arg(long, env = "CONSENTRY_LOG_FORMAT", value_enum)]
        pub log_format: Option<LogFormat>,
    }
}

/// How log lines are written (stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (`tracing-subscriber`'s JSON format), with the current request's
    /// span (its `request_id`).
    Json,
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
    /// Industry table file (GB/T 4754), if the operator supplies one (`crate::industry`).
    pub industries: Option<PathBuf>,
    /// Webhook delivery settings.
    pub webhooks: WebhookConfig,
    /// Longest wait for a database connection (ms) before a request fails with `503` and
    /// `Retry-After`. Default 1000.
    pub database_wait_ms: u64,
    /// The platform's own evaluation model file (platform role); `None`: the built-in model.
    pub evaluation_model: Option<PathBuf>,
    /// The bearer token that opens `/metrics` on the main listener (a secret: never logged).
    pub metrics_token: Option<String>,
    /// A separate address serving `/metrics` only.
    pub metrics_listen: Option<String>,
    /// The format of the log lines.
    pub log_format: LogFormat,
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
            None => ServeArgs::default(),
        };
        let s = args.clone().over(file);
        let data_dir = s.data_dir.unwrap_or_else(|| PathBuf::from("consentry-data"));
        let listen = s.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let database_url = s
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("consentry.sqlite3").display()));
        crate::storage::backend_of(&database_url).map_err(|e| ConfigError(e.to_string()))?;
        let explicit_public_url = s.public_url.is_some();
        let public_url = s
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "public URL {public_url:?} must be http(s)://"
            )));
        }
        let role = s.role.unwrap_or(ServiceRole::Node);
        let node_url = s.node_url.map(|u| u.trim_end_matches('/').to_owned());
        let platform_uscc = s.platform_uscc;
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
        let workers = s
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
        if let Some(path) = &s.industries {
            // Checked here so that a bad table is a configuration error naming the rule broken;
            // the node loads it again when it starts.
            crate::industry::Industries::load(path).map_err(|e| ConfigError(e.to_string()))?;
        }
        let defaults = WebhookConfig::default();
        let retry_base_ms = s.webhook_retry_base_ms.unwrap_or(defaults.retry_base_ms);
        let retry_cap_ms = s.webhook_retry_cap_ms.unwrap_or(defaults.retry_cap_ms);
        if retry_base_ms == 0 || retry_cap_ms < retry_base_ms {
            return Err(ConfigError(
                "webhook-retry-base-ms must be at least 1 and at most webhook-retry-cap-ms".into(),
            ));
        }
        if s.metrics_token
            .as_ref()
            .is_some_and(|t| !t.is_empty() && t.len() < 16)
        {
            return Err(ConfigError(
                "metrics-token must be at least 16 characters (it is a bearer secret)".into(),
            ));
        }
        let webhooks = WebhookConfig {
            allow_insecure: s.insecure_webhooks,
            retry_base_ms,
            retry_cap_ms,
        };
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
            log_batch_max: s.log_batch_max.unwrap_or(1024).clamp(1, 16_384),
            checkpoint_interval_secs: s.checkpoint_interval_secs.unwrap_or(1).max(1),
            catalog_dir: s.catalog_dir,
            witnesses: s.witnesses,
            calendar: s.calendar,
            industries: s.industries,
            webhooks,
            database_wait_ms: s.database_wait_ms.unwrap_or(1000).clamp(10, 600_000),
            evaluation_model: s.evaluation_model,
            metrics_token: s.metrics_token.filter(|t| !t.is_empty()),
            metrics_listen: s.metrics_listen,
            log_format: s.log_format.unwrap_or_default(),
        })
    }
}

/// Reads the TOML configuration file `path` into the keys `T` declares (unknown keys refused), or
/// names the file and what is wrong with it.
pub(crate) fn read_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
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
    fn unknown_and_dead_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        for text in [
            "insecure-allow-http = true\n",
            "lissten = \"127.0.0.1:1\"\n",
            "config = \"other.toml\"\n",
            "[webhooks]\nallow-insecure = true\n",
            "insecure_webhooks = true\n",
        ] {
            std::fs::write(&file, text).unwrap();
            let args = ServeArgs {
                config: Some(file.clone()),
                ..Default::default()
            };
            let err = Config::resolve(&args).unwrap_err();
            assert!(err.0.contains("unknown field"), "{text:?}: {err}");
        }
    }

    #[test]
    fn each_source_over_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "witnesses = [\"https://w1.test\"]\ninsecure-webhooks = true\nlog-batch-max = 7\n\
             webhook-retry-base-ms = 5\nwebhook-retry-cap-ms = 50\nnode-url = \"https://node.test/\"\n\
             evaluation-model = \"/etc/consentry/model.json\"\n",
        )
        .unwrap();
        let from_file = Config::resolve(&ServeArgs {
            config: Some(file.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(from_file.witnesses, ["https://w1.test"]);
        assert!(from_file.webhooks.allow_insecure);
        assert_eq!(from_file.log_batch_max, 7);
        assert_eq!(
            (from_file.webhooks.retry_base_ms, from_file.webhooks.retry_cap_ms),
            (5, 50)
        );
        assert_eq!(from_file.node_url.as_deref(), Some("https://node.test"));
        assert_eq!(
            from_file.evaluation_model.as_deref(),
            Some(Path::new("/etc/consentry/model.json"))
        );
        let flags = Config::resolve(&ServeArgs {
            config: Some(file),
            witnesses: vec!["https://w2.test".into()],
            node_url: Some("https://other.test".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(flags.witnesses, ["https://w2.test"]);
        assert!(
            flags.webhooks.allow_insecure,
            "a switch is on when any source turns it on"
        );
        assert_eq!(flags.node_url.as_deref(), Some("https://other.test"));
        let defaults = Config::resolve(&ServeArgs::default()).unwrap();
        assert!(defaults.witnesses.is_empty() && !defaults.webhooks.allow_insecure);
        assert_eq!(defaults.evaluation_model, None, "the built-in model by default");
        assert_eq!(defaults.log_batch_max, 1024);
    }

    /// The README's table of keys (flag, environment variable, TOML key) is read off the same
    /// declaration: every key has its row, with its flag and variable.
    #[test]
    fn the_readme_lists_every_key() {
        use clap::Args as _;
        let cmd = ServeArgs::augment_args(clap::Command::new("serve"));
        let readme = include_str!("../README.md");
        let rows: Vec<&str> = readme
            .lines()
            .filter(|l| l.starts_with("| `--") || l.starts_with("| — |"))
            .collect();
        for field in ServeArgs::FIELDS {
            let arg = cmd.get_arguments().find(|a| a.get_id() == *field);
            let flag = arg.and_then(|a| a.get_long()).map(|l| format!("`--{l}"));
            let env = arg
                .and_then(|a| a.get_env())
                .map(|e| format!("`{}`", e.to_string_lossy()));
            let key = (*field != "config").then(|| format!("| `{}` |", field.replace('_', "-")));
            let row = rows
                .iter()
                .find(|r| {
                    key.as_ref().map_or_else(
                        || flag.as_ref().is_some_and(|f| r.contains(f.as_str())),
                        |k| r.contains(k.as_str()),
                    )
                })
                .unwrap_or_else(|| panic!("README.md has no row for the key {field}"));
            for part in [flag, env].into_iter().flatten() {
                assert!(
                    row.contains(&part),
                    "README.md's row for {field} lacks {part}: {row}"
                );
            }
        }
    }

    #[test]
    fn metrics_and_log_format_keys() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "metrics-token = \"0123456789abcdef-file\"\nmetrics-listen = \"127.0.0.1:9100\"\nlog-format = \"json\"\n",
        )
        .unwrap();
        let c = Config::resolve(&ServeArgs {
            config: Some(file.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.metrics_token.as_deref(), Some("0123456789abcdef-file"));
        assert_eq!(c.metrics_listen.as_deref(), Some("127.0.0.1:9100"));
        assert_eq!(c.log_format, LogFormat::Json);
        let flags = Config::resolve(&ServeArgs {
            config: Some(file),
            log_format: Some(LogFormat::Text),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(flags.log_format, LogFormat::Text);
        let d = Config::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(
            (d.metrics_token, d.metrics_listen, d.log_format),
            (None, None, LogFormat::Text)
        );
        let short = ServeArgs {
            metrics_token: Some("short".into()),
            ..Default::default()
        };
        assert!(Config::resolve(&short).unwrap_err().0.contains("metrics-token"));
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
