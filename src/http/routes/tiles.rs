//! The access log as static C2SP tlog-tiles under the prefix `/v1/log` (spec/access-log.md §7.4):
//! `/v1/log/checkpoint` (served by [`super::audit`]), `/v1/log/tile/<L>/<N>[.p/<W>]` and
//! `/v1/log/tile/entries/<N>[.p/<W>]`. Public: leaves and tree hashes carry no business data.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::log::tiles::{Tile, TileKind};
use crate::node::Node;

/// `Cache-Control` of a full tile or bundle: it never changes.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of a partial tile or bundle: its bytes never change either, but the node may stop
/// serving it once the full tile exists (tlog-tiles), so caches keep it briefly.
pub const PARTIAL: &str = "public, max-age=60";

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    configure_for::<Node>(cfg);
}

/// The tile routes for `H`'s log (the node's, or a platform's).
pub fn configure_for<H: super::audit::LogHost>(cfg: &mut web::ServiceConfig) {
    // One route for both forms: `<N>` spans several path segments (`x001/234`), so the whole tail is
    // taken and parsed strictly (`crate::log::tiles::Tile::parse`).
    cfg.route("/v1/log/tile/{tail:.+}", web::get().to(tile::<H>));
}

/// The tile routes (method, path) as a service's route list names them.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/log/tile/{level}/{n}"),
    ("GET", "/v1/log/tile/entries/{n}"),
];

async fn tile<H: super::audit::LogHost>(host: web::Data<H>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let tail = req.match_info().get("tail").unwrap_or_default();
    let path = format!("tile/{tail}");
    let tile = Tile::parse(&path).map_err(|e| Error::invalid("invalid-path", format!("{path}: {e}")))?;
    let bytes = node
        .store
        .call(move |c| crate::node::tiles::read(c, &tile))
        .await?
        .ok_or_else(|| not_yet(&tile))?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Cache-Control", if tile.is_full() { IMMUTABLE } else { PARTIAL }))
        .body(bytes))
}

fn not_yet(tile: &Tile) -> Error {
    let (start, end) = tile.entry_range();
    let what = match tile.kind() {
        TileKind::Entries => "bundle",
        TileKind::Hashes(_) => "tile",
    };
    if tile.tree_level().is_none() {
        return Error::NotFound(format!(
            "no {what} {tile}: a log of at most 2^64 − 1 entries has tiles at levels 0–7 only"
        ));
    }
    Error::NotFound(format!(
        "no {what} {tile}: it needs entries {start}..{end}, which the log does not have (yet)"
    ))
}
