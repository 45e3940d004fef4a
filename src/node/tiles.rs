//! Serving the access log as C2SP tlog-tiles (spec/access-log.md §7.4) from the stored tree: a hash
//! tile is one range query on `log_nodes` (tree level `8·L`, indices `N·256 … N·256 + W − 1`), an
//! entry bundle one range query on `log_leaves`. A tile is served only when every hash (entry) it
//! holds exists: a full tile once its 256 subtrees are complete, a partial tile of width `W` once the
//! tree has at least `W` hashes there. Nothing is scanned and nothing is stored beyond the tree.

use crate::error::Result;
use crate::log::tiles::{self, HASH_LEN, Tile, TileKind};
use crate::storage::audit::{leaf_range, node_range};
use crate::storage::{DbConn, StorageError};

/// The bytes of `tile`, or `None` if the log does not (yet) have all of it, or the tile lies beyond
/// any `u64`-indexed tree.
pub fn read(c: &mut DbConn, tile: &Tile) -> Result<Option<Vec<u8>>> {
    let (Some(level), Some((first, end))) = (tile.tree_level(), tile.node_range()) else {
        return Ok(None);
    };
    let (Ok(first), Ok(end)) = (i64::try_from(first), i64::try_from(end)) else {
        return Ok(None);
    };
    let width = usize::from(tile.width());
    match tile.kind() {
        TileKind::Hashes(_) => {
            let rows = node_range(c, i16::from(level), first, end)?;
            if rows.len() != width {
                return Ok(None);
            }
            if rows.iter().any(|h| h.len() != HASH_LEN) {
                return Err(StorageError::Corrupt(format!("a tree node of {tile} is not 32 bytes")).into());
            }
            Ok(Some(rows.concat()))
        }
        TileKind::Entries => {
            let rows = leaf_range(c, first, end)?;
            if rows.len() != width {
                return Ok(None);
            }
            let bundle = tiles::encode_bundle(rows.iter().map(Vec::as_slice))
                .map_err(|e| StorageError::Corrupt(format!("{tile}: {e}")))?;
            Ok(Some(bundle))
        }
    }
}
