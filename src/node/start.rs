//! Assembling a [`Node`] from its configuration: data folder, key, database, catalog, committer.

use std::sync::{Arc, RwLock};

use super::{GrantCache, Node, auth, data, identity, letters, registry, status};
use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::config::{Config, ServiceRole};
use crate::error::{Error, Result};
use crate::identity::KeyResolver;
use crate::policy::Role;
use crate::storage::log_store::Committer;
use crate::storage::{Store, settings};

/// The node's own code and name in the registry, unless configured otherwise.
pub const DEFAULT_NODE_USCC: &str = "11330000MB0000019E";
/// The node's default name.
pub const DEFAULT_NODE_NAME: &str = "省融资信用服务节点 Provincial Financing Credit Service Node";

/// Opens an existing node, for the operator's commands (`consentry admin …`): like [`open`], but it
/// refuses, changing nothing, a data folder without the node's key and a database that is missing,
/// belongs to no node, or belongs to another key — where [`open`] would set up a new node there.
/// A mistyped `--data-dir` or `--database-url` thus names the mistake instead of creating a second,
/// empty node.
pub fn open_existing(config: &Config, clock: Arc<dyn Clock>) -> Result<Node> {
    let key_file = match config.role {
        ServiceRole::Platform => identity::PLATFORM_KEY_FILE,
        ServiceRole::Node => identity::NODE_KEY_FILE,
    };
    let key_path = config.data_dir.join(key_file);
    if !key_path.is_file() {
        return Err(Error::NotFound(format!(
            "{} holds no {key_file}: it is not the data folder of a node that has started (check \
             --data-dir, or start `consentry serve --data-dir {}` once first)",
            config.data_dir.display(),
            config.data_dir.display()
        )));
    }
    let url = crate::storage::redact(&config.database_url);
    let (key, _) = identity::load_or_create_key(&config.data_dir, key_file)?;
    match crate::storage::probe(&config.database_url)? {
        crate::storage::Found::Nothing => Err(Error::NotFound(format!(
            "no database at {url}: check --database-url (a node's SQLite database is made by \
             `consentry serve`, never by an admin command)"
        ))),
        crate::storage::Found::Foreign | crate::storage::Found::Empty => Err(Error::Conflict(format!(
            "{url} is not a Consentry node's database (it holds no node identity): check \
             --database-url"
        ))),
        crate::storage::Found::Service { did } if did != key.did.as_str() => Err(Error::Conflict(format!(
            "{url} belongs to {did}, but the key in {} is {}: this folder and this database are \
             not the same node's",
            config.data_dir.display(),
            key.did
        ))),
        crate::storage::Found::Service { .. } => Ok(open(config, clock)?.0),
    }
}

/// Opens everything the node needs. `created_key` in the result says whether this was a first start.
pub fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<(Node, bool)> {
    let platform = config.role == ServiceRole::Platform;
    let key_file = if platform {
        identity::PLATFORM_KEY_FILE
    } else {
        identity::NODE_KEY_FILE
    };
    let (key, created_key) = identity::load_or_create_key(&config.data_dir, key_file)?;
    let store = Store::open_with(
        &config.database_url,
        u32::try_from(config.workers * 2 + 4).unwrap_or(16),
        std::time::Duration::from_millis(config.database_wait_ms),
    )?;
    let log_name = if platform { "platform-log" } else { "access-log" };
    let origin = identity::bind_database(&store, &key, &config.public_url, log_name, config.fix_origin)?;
    let mut catalog = match &config.catalog_dir {
        None => Catalog::builtin(),
        Some(dir) => Catalog::from_dir(dir).map_err(|e| Error::Internal(e.to_string()))?,
    };
    letters::load(&store, &mut catalog)?;
    let rotated = store.run(crate::storage::log_keys::count)? > 1;
    let tag_key = super::keys::tag_key(&config.data_dir, &origin, &key, rotated)?;
    let committer = Committer::start(&store, tag_key, Arc::clone(&clock), config.log_batch_max)?;
    let metrics = Arc::new(crate::metrics::Metrics::new(
        config.metrics_token.clone(),
        config.metrics_listen.is_some(),
    ));
    committer.observe(Arc::clone(&metrics));
    let node = Node {
        data: Arc::new(data::DbDataSource(store.clone())),
        store,
        committer,
        catalog: RwLock::new(Arc::new(catalog)),
        key,
        data_dir: config.data_dir.clone(),
        public_url: config.public_url.clone(),
        origin,
        tag_key,
        log_keys: super::keys::LogKeys::default(),
        keys: KeyResolver::default(),
        grants: GrantCache::default(),
        jti: auth::JtiGuard::default(),
        clock,
        status_cache: status::StatusCache::default(),
        witnesses: crate::witness::client::Witnesses::from_config(&config.witnesses)?,
        calendar: crate::calendar::SharedCalendar::open(config.calendar.clone())
            .map_err(|e| Error::Internal(format!("calendar: {e}")))?,
        industries: match &config.industries {
            None => None,
            Some(path) => Some(Arc::new(
                crate::industry::Industries::load(path).map_err(|e| Error::Internal(e.to_string()))?,
            )),
        },
        notify: super::notify::Notifier::new(config.webhooks.clone()),
        health: super::health::Health::new(config.checkpoint_interval_secs),
        foreign_callers: std::sync::OnceLock::new(),
        metrics,
    };
    // A database older than a checkpoint this node published is a rolled-back log: refuse it.
    if let Some(size) = super::checkpoints::check_not_rolled_back(&node)? {
        node.health.published(size);
    }
    node.notify.refresh(&mut *node.store.conn()?)?;
    // The key history, if there is one yet (the first checkpoint round writes the genesis): the
    // earlier keys' DIDs are the service's audience from the first request on.
    super::keys::load(&mut *node.store.conn()?, &node)?;
    match (&config.platform_uscc, platform) {
        (Some(uscc), true) => registry::ensure_self(&node, Role::Platform, uscc, "financing platform")?,
        _ => registry::ensure_self(&node, Role::Node, DEFAULT_NODE_USCC, DEFAULT_NODE_NAME)?,
    }
    // Grants stored before their categories were kept (migration 2026-12-07-000003) become
    // searchable by category once; the setting records that no older grant is left.
    const CATEGORIES_SETTING: &str = "grant-categories";
    if node
        .store
        .run(|c| settings::get(c, CATEGORIES_SETTING))?
        .is_none()
    {
        let n = super::grants::backfill_categories(&node)?;
        if n > 0 {
            tracing::info!(grants = n, "categories of earlier grants recorded for search");
        }
        node.store
            .run(|c| settings::init(c, CATEGORIES_SETTING, "complete"))?;
    }
    Ok((node, created_key))
}
