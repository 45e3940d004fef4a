//! The access log as a static tile layout, C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): tile paths,
//! which tiles a tree has, tile and entry-bundle contents, and a verifier that recomputes a whole log
//! from its tiles. Pure: no I/O (the node serves tiles from its database, [`crate::node::tiles`]; the
//! command line fetches them over HTTP or from a folder).
//!
//! # Layout (tlog-tiles §"Merkle Tree", §"Log entries")
//!
//! Under a URL *prefix* (the node's is `<base>/v1/log`, next to its `<prefix>/checkpoint`):
//!
//! * `tile/<L>/<N>[.p/<W>]`: the `N`-th tile at level `L`, the concatenation of the Merkle tree hashes
//!   `MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L])` for `i` = 0 … W − 1, i.e. the stored complete
//!   subtrees at tree level `8·L`, indices `N·256 …` ([`crate::log::merkle::NodeSource`] addressing).
//!   A full tile has 256 hashes (8,192 bytes); a *partial* tile (`.p/<W>`, W = 1 … 255) is the right
//!   edge of a level.
//! * `tile/entries/<N>[.p/<W>]`: the entry bundle, entries `N·256 …` as big-endian `u16`
//!   length-prefixed byte strings. An entry is the 136-byte leaf (spec/access-log.md §3), so its
//!   RFC 6962 leaf hash `SHA-256(0x00 ‖ entry)` is the hash in the level-0 tile.
//!
//! `<L>` is decimal 0 … 63 without leading zeroes; `<N>` is written in 3-digit groups, every group but
//! the last prefixed with `x` (`1234067` → `x001/x234/067`); `<W>` is decimal 1 … 255 without leading
//! zeroes. [`Tile::parse`] accepts exactly the canonical form (so each tile has one path): no leading
//! `x000` group, no leading zeroes, nothing after the width.
//!
//! A tree of size `s` has, at each level `L`, `⌊s / 256^(L+1)⌋` full tiles and, when
//! `w = ⌊s / 256^L⌋ mod 256` is not 0, one partial tile of width `w` ([`full_tiles`],
//! [`partial_width`], [`tiles_of`]). Every hash of a tree indexed by `u64` is at a tree level ≤ 63, so
//! tiles exist at levels 0 … [`MAX_TREE_LEVEL`] only.
//!
//! # Verification ([`verify_tiles`])
//!
//! Given a checkpoint's size and root (verified by the caller) and a [`TileSource`], the verifier
//! reads every entry bundle and hash tile in [`tiles_of`] order, recomputes every leaf hash from the
//! entries and every hash tile from them, and compares: the served hash tiles with the recomputed
//! ones, the served tiles with each other (each full tile's hash with the one the level above serves),
//! and both the entries' root and the tiles' right edge with the checkpoint's root. Then it names the
//! first thing that differs, by which side leads to the signed root:
//!
//! * the entries lead to the root: every served hash that differs is a wrong **tile** ([`TileCheck::Tile`]);
//! * the entries do not, but the served tiles do and agree with each other: every entry whose leaf
//!   hash differs from its level-0 tile is a changed **entry** ([`TileCheck::Entry`]);
//! * neither: a **root** failure ([`TileCheck::Root`]), with where entries and tiles first part.
//!
//! A missing or malformed entry bundle stops the recomputation ([`TileCheck::EntryBundle`]); a missing
//! or malformed hash tile is reported and the walk goes on ([`TileCheck::Tile`]). Memory is
//! `O(levels · 256)` hashes; per entry the work is one leaf hash and about one node hash, plus one
//! node hash per entry to hash the served tiles.

use serde::Serialize;

use super::merkle::{self, CompactRange, EMPTY_ROOT, Hash, NodeSource};

/// Hashes in a full tile (tlog-tiles: "Full tiles MUST be exactly 256 hashes wide").
pub const TILE_WIDTH: u64 = 256;

/// Tree levels spanned by one tile level (256 = 2^8).
pub const TILE_HEIGHT: u32 = 8;

/// Bytes of one hash in a tile.
pub const HASH_LEN: usize = 32;

/// Bytes of a full hash tile (8,192).
pub const FULL_TILE_BYTES: usize = TILE_WIDTH as usize * HASH_LEN;

/// The largest level a tile path may name (tlog-tiles: "between 0 and 63").
pub const MAX_LEVEL: u8 = 63;

/// The highest tile level of a tree indexed by `u64`: level 7 holds tree level 56, and a tree of
/// fewer than 2^64 leaves has no complete subtree at tree level 64.
pub const MAX_TREE_LEVEL: u8 = 7;

/// The longest entry an entry bundle can hold (a `u16` length prefix).
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

/// Failures of one [`TileCheck`] listed in a [`TileReport`]; the rest are counted.
pub const PER_CHECK_LIMIT: usize = 10;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// Merkle tree hashes at tile level `L` (tree level `8·L`).
    Hashes(u8),
    /// Log entries (an entry bundle).
    Entries,
}

/// One tile or entry bundle: its kind, index `N` and width `W` (1 … 256; 256 is a full tile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    kind: TileKind,
    index: u64,
    width: u16,
}

/// A tile path that is not in the canonical tlog-tiles form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TilePathError {
    /// It does not start with `tile/`, or has nothing after it.
    #[error("a tile path is tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")]
    Shape,
    /// `<L>` is not a decimal 0 … 63 without leading zeroes.
    #[error("tile level {0:?} is not a decimal 0–63 without leading zeroes")]
    Level(String),
    /// An element of `<N>` is not `x` + 3 digits (all but the last) or 3 digits (the last).
    #[error("tile index element {0:?} is not three digits (with an x prefix on all but the last element)")]
    IndexElement(String),
    /// `<N>` starts with a redundant `x000` group.
    #[error("tile index {0:?} has a leading x000 element (not the canonical form)")]
    LeadingZeroGroup(String),
    /// `<N>` exceeds 2^64 − 1.
    #[error("tile index {0:?} exceeds 2^64 − 1")]
    IndexOverflow(String),
    /// `<W>` is not a decimal 1 … 255 without leading zeroes.
    #[error("partial tile width {0:?} is not a decimal 1–255 without leading zeroes")]
    Width(String),
}

impl Tile {
    /// A hash tile at `level` (0 … 63), `index`, `width` (1 … 256); `None` outside those ranges.
    pub fn hashes(level: u8, index: u64, width: u16) -> Option<Self> {
        (level <= MAX_LEVEL && (1..=256).contains(&width)).then_some(Self {
            kind: TileKind::Hashes(level),
            index,
            width,
        })
    }

    /// An entry bundle at `index`, `width` (1 … 256); `None` outside that range.
    pub fn entries(index: u64, width: u16) -> Option<Self> {
        (1..=256).contains(&width).then_some(Self {
            kind: TileKind::Entries,
            index,
            width,
        })
    }

    /// Hashes or entries.
    pub fn kind(&self) -> TileKind {
        self.kind
    }

    /// The tile level of a hash tile.
    pub fn level(&self) -> Option<u8> {
        match self.kind {
            TileKind::Hashes(l) => Some(l),
            TileKind::Entries => None,
        }
    }

    /// `N`.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// `W`: 256 for a full tile.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile is full (256 wide).
    pub fn is_full(&self) -> bool {
        self.width == 256
    }

    /// The tree level of the hashes (`8·L`), or 0 for an entry bundle (its entries are the leaves);
    /// `None` for a hash tile above [`MAX_TREE_LEVEL`], which no `u64`-indexed tree has.
    pub fn tree_level(&self) -> Option<u8> {
        match self.kind {
            TileKind::Hashes(l) if l <= MAX_TREE_LEVEL => Some(l * 8),
            TileKind::Hashes(_) => None,
            TileKind::Entries => Some(0),
        }
    }

    /// The `(level, index)` addresses ([`NodeSource`]) of its hashes — or the entry indices of a
    /// bundle — as `[first, end)`; `None` if they do not fit a `u64`-indexed tree.
    pub fn node_range(&self) -> Option<(u64, u64)> {
        self.tree_level()?;
        let first = self.index.checked_mul(TILE_WIDTH)?;
        let end = first.checked_add(u64::from(self.width))?;
        Some((first, end))
    }

    /// The entries the tile spans, `[start, end)` (tlog-tiles "start index", "end index" for a
    /// partial tile: up to its last hash), in `u128` so that no tile path overflows.
    pub fn entry_range(&self) -> (u128, u128) {
        let level = u32::from(self.level().unwrap_or(0));
        let span = 1u128.checked_shl(TILE_HEIGHT * level).unwrap_or(0);
        let first = u128::from(self.index) * u128::from(TILE_WIDTH);
        (
            first.saturating_mul(span),
            (first + u128::from(self.width)).saturating_mul(span),
        )
    }

    /// The path under the log's prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        let mut out = String::with_capacity(32);
        out.push_str("tile/");
        match self.kind {
            TileKind::Hashes(l) => out.push_str(&l.to_string()),
            TileKind::Entries => out.push_str("entries"),
        }
        out.push('/');
        out.push_str(&encode_index(self.index));
        if !self.is_full() {
            out.push_str(".p/");
            out.push_str(&self.width.to_string());
        }
        out
    }

    /// Parses a path in exactly the canonical form [`Tile::path`] writes (a leading `/` is not part
    /// of it).
    pub fn parse(path: &str) -> Result<Self, TilePathError> {
        let rest = path.strip_prefix("tile/").ok_or(TilePathError::Shape)?;
        let (head, rest) = rest.split_once('/').ok_or(TilePathError::Shape)?;
        let kind = if head == "entries" {
            TileKind::Entries
        } else {
            TileKind::Hashes(parse_small(head, 0, u16::from(MAX_LEVEL)).map_or_else(
                || Err(TilePathError::Level(head.to_owned())),
                |l| u8::try_from(l).map_err(|_| TilePathError::Level(head.to_owned())),
            )?)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((n, w)) => {
                let width = parse_small(w, 1, 255).ok_or_else(|| TilePathError::Width(w.to_owned()))?;
                (n, width)
            }
            None => (rest, 256),
        };
        let index = decode_index(index_part)?;
        Ok(Self { kind, index, width })
    }
}

impl std::fmt::Display for Tile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path())
    }
}

/// A decimal in `min..=max` without leading zeroes (and without sign or spaces).
fn parse_small(s: &str, min: u16, max: u16) -> Option<u16> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    let v: u16 = s.parse().ok()?;
    (min..=max).contains(&v).then_some(v)
}

/// `N` in 3-digit groups, `x` before all but the last: `1234067` → `x001/x234/067`, `5` → `005`.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = Vec::with_capacity(7);
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(groups.len() * 5);
    for (i, g) in groups.iter().rev().enumerate() {
        if i > 0 {
            out.push('/');
        }
        if i + 1 < groups.len() {
            out.push('x');
        }
        out.push_str(&format!("{g:03}"));
    }
    out
}

/// The inverse of [`encode_index`], strict.
pub fn decode_index(s: &str) -> Result<u64, TilePathError> {
    let elements: Vec<&str> = s.split('/').collect();
    let last = elements.len() - 1;
    let mut n: u64 = 0;
    for (i, e) in elements.iter().enumerate() {
        let digits = if i < last { e.strip_prefix('x') } else { Some(*e) };
        let digits = digits
            .filter(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| TilePathError::IndexElement((*e).to_owned()))?;
        if i == 0 && i < last && digits == "000" {
            return Err(TilePathError::LeadingZeroGroup(s.to_owned()));
        }
        let g: u64 = digits
            .parse()
            .map_err(|_| TilePathError::IndexElement((*e).to_owned()))?;
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(g))
            .ok_or_else(|| TilePathError::IndexOverflow(s.to_owned()))?;
    }
    Ok(n)
}

/// `⌊size / 256^level⌋`: the number of hashes at tile level `level` (complete subtrees at tree level
/// `8·level`).
fn hashes_at(size: u64, level: u8) -> u64 {
    size.checked_shr(TILE_HEIGHT * u32::from(level)).unwrap_or(0)
}

/// The number of full tiles at `level` in a tree of `size` (`⌊size / 256^(level+1)⌋`); the same for
/// full entry bundles at level 0.
pub fn full_tiles(size: u64, level: u8) -> u64 {
    hashes_at(size, level) / TILE_WIDTH
}

/// The width of the partial tile at `level` in a tree of `size` (`⌊size / 256^level⌋ mod 256`), 0 if
/// there is none (tlog-tiles §"Partial Tiles").
pub fn partial_width(size: u64, level: u8) -> u16 {
    // < 256 by the modulus.
    (hashes_at(size, level) % TILE_WIDTH) as u16
}

/// The partial hash tile at `level` of a tree of `size`, if it has one.
pub fn partial_tile(size: u64, level: u8) -> Option<Tile> {
    let w = partial_width(size, level);
    if w == 0 {
        return None;
    }
    Tile::hashes(level, full_tiles(size, level), w)
}

/// Every tile and entry bundle of the tree of `size`, in the order [`verify_tiles`] reads them: for
/// each bundle `k` (full ones, then the partial one) the bundle and the level-0 tile `k`, each full
/// tile followed by the full tile above it when it completes that one; then the partial tiles of the
/// levels above 0, bottom-up. A tree of size 70,000 has 274 bundles, 273 full and one partial (112)
/// level-0 tiles, one full and one partial (17) level-1 tile and a partial level-2 tile of width 1
/// (the tlog-tiles example).
pub fn tiles_of(size: u64) -> impl Iterator<Item = Tile> {
    let full = full_tiles(size, 0);
    let last = partial_width(size, 0);
    let bundles = full + u64::from(last != 0);
    (0..bundles)
        .flat_map(move |k| {
            let width = if k < full { 256 } else { last };
            let mut v = Vec::with_capacity(3);
            v.extend(Tile::entries(k, width));
            v.extend(Tile::hashes(0, k, width));
            if width == 256 {
                let mut index = k;
                for level in 1..=MAX_TREE_LEVEL {
                    if (index + 1) % TILE_WIDTH != 0 {
                        break;
                    }
                    index = (index + 1) / TILE_WIDTH - 1;
                    v.extend(Tile::hashes(level, index, 256));
                }
            }
            v
        })
        .chain((1..=MAX_TREE_LEVEL).filter_map(move |l| partial_tile(size, l)))
}

/// Tile contents: the hashes concatenated.
pub fn encode_hashes<'a>(hashes: impl IntoIterator<Item = &'a Hash>) -> Vec<u8> {
    let mut out = Vec::with_capacity(FULL_TILE_BYTES);
    for h in hashes {
        out.extend_from_slice(h);
    }
    out
}

/// Splits tile contents into `width` hashes; `None` unless the length is exactly `32·width`.
pub fn decode_hashes(bytes: &[u8], width: u16) -> Option<Vec<Hash>> {
    if bytes.len() != usize::from(width) * HASH_LEN {
        return None;
    }
    Some(
        bytes
            .chunks_exact(HASH_LEN)
            .map(|c| {
                let mut h = [0u8; HASH_LEN];
                h.copy_from_slice(c);
                h
            })
            .collect(),
    )
}

/// The contents of a hash tile read from stored complete subtrees ([`NodeSource`]): one read per
/// hash. (The node reads a tile with one range query instead.) `None` for a tile above
/// [`MAX_TREE_LEVEL`] or whose indices overflow.
pub fn read_hash_tile<S: NodeSource + ?Sized>(tile: &Tile, src: &S) -> Result<Option<Vec<u8>>, S::Error> {
    let (Some(level), Some((first, end))) = (tile.tree_level(), tile.node_range()) else {
        return Ok(None);
    };
    if tile.kind == TileKind::Entries {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(usize::from(tile.width) * HASH_LEN);
    for i in first..end {
        out.extend_from_slice(&src.node(level, i)?);
    }
    Ok(Some(out))
}

/// An entry longer than [`MAX_ENTRY_LEN`] cannot go in a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("entry of {0} bytes exceeds the 65,535 bytes of an entry bundle's u16 length prefix")]
pub struct EntryTooLong(pub usize);

/// An entry bundle: each entry as a big-endian `u16` length and its bytes (tlog-tiles §"Log entries").
pub fn encode_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, EntryTooLong> {
    let mut out = Vec::with_capacity(256 * (2 + super::entry::LEAF_LEN));
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| EntryTooLong(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Why an entry bundle does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The bytes end inside a length prefix or an entry.
    #[error("the bundle ends inside entry {entry} (its length prefix or its bytes, at byte {offset})")]
    Truncated {
        /// The position of the entry in the bundle (0-based).
        entry: usize,
        /// The byte offset where it starts.
        offset: usize,
    },
}

/// The entries of a bundle, in order.
pub fn parse_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut out = Vec::with_capacity(256);
    let mut rest = bytes;
    let mut offset = 0;
    while !rest.is_empty() {
        let truncated = BundleError::Truncated {
            entry: out.len(),
            offset,
        };
        let (len, tail) = rest.split_first_chunk::<2>().ok_or(truncated)?;
        let len = usize::from(u16::from_be_bytes(*len));
        if tail.len() < len {
            return Err(truncated);
        }
        let (entry, tail) = tail.split_at(len);
        out.push(entry);
        offset += 2 + len;
        rest = tail;
    }
    Ok(out)
}

/// Where tiles come from: a node over HTTP, a folder, memory. `Ok(None)` means the tile is not there
/// (HTTP 404, no such file): a failure of the log, not of the transport.
pub trait TileSource {
    /// A transport error (network, I/O): verification cannot go on.
    type Error;

    /// The bytes of `tile`, or `None` if it is not served.
    fn fetch(&mut self, tile: &Tile) -> Result<Option<Vec<u8>>, Self::Error>;
}

impl<E, F: FnMut(&Tile) -> Result<Option<Vec<u8>>, E>> TileSource for F {
    type Error = E;

    fn fetch(&mut self, tile: &Tile) -> Result<Option<Vec<u8>>, E> {
        self(tile)
    }
}

/// What a tile failure is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TileCheck {
    /// An entry bundle is missing, does not parse, or holds the wrong number of entries.
    EntryBundle,
    /// An entry's leaf hash differs from its level-0 tile, while the tiles lead to the signed root:
    /// the entry was changed.
    Entry,
    /// A hash tile is missing or malformed, or differs from the one the entries give while the
    /// entries lead to the signed root.
    Tile,
    /// Neither the entries nor the hash tiles lead to the checkpoint's root.
    Root,
}

impl TileCheck {
    /// The kebab-case name (the failure code on the command line).
    pub fn as_str(self) -> &'static str {
        match self {
            TileCheck::EntryBundle => "entry-bundle",
            TileCheck::Entry => "entry",
            TileCheck::Tile => "tile",
            TileCheck::Root => "root",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

/// One thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TileFailure {
    /// Which check.
    pub check: TileCheck,
    /// The tile or bundle path it names, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tile: Option<String>,
    /// The entry it names, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// What is wrong.
    pub message: String,
}

/// The outcome of [`verify_tiles`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TileReport {
    /// No failure.
    pub valid: bool,
    /// The tree size verified (the checkpoint's).
    pub size: u64,
    /// Hex of the checkpoint's root.
    pub root: String,
    /// Entries read from the bundles.
    pub entries: u64,
    /// Entry bundles read.
    pub entry_bundles: u64,
    /// Hash tiles read.
    pub hash_tiles: u64,
    /// Failures, the first where the log first goes wrong.
    pub failures: Vec<TileFailure>,
    /// Failures found beyond [`PER_CHECK_LIMIT`] per check.
    pub failures_omitted: u64,
}

impl TileReport {
    /// The first failure.
    pub fn first_failure(&self) -> Option<&TileFailure> {
        self.failures.first()
    }
}

/// A served hash that differs from the one recomputed from the entries.
#[derive(Debug, Clone)]
struct Diff {
    tile: Tile,
    position: u16,
    served: Hash,
    computed: Hash,
}

/// A served full tile whose hash is not what the level above serves for it.
#[derive(Debug, Clone)]
struct Break {
    below: Tile,
    above: Tile,
    position: u16,
}

/// One tile level's state during the walk.
#[derive(Debug, Default)]
struct LevelState {
    /// The hashes of the current tile, recomputed from the entries.
    computed: Vec<Hash>,
    /// The hashes of the served full tiles of the level below (`None`: that tile was not usable).
    served_below: Vec<Option<Hash>>,
    /// The served partial tile of this level (the right edge), once read.
    edge: Option<Vec<Hash>>,
    /// The partial tile could not be read.
    edge_missing: bool,
}

/// Differences are kept up to this many (beyond, counted).
const MAX_DIFFS: usize = 64;

struct Walk<'s, S: TileSource, F: FnMut(u64, &[u8])> {
    size: u64,
    src: &'s mut S,
    on_entry: F,
    range: CompactRange,
    levels: Vec<LevelState>,
    /// Missing or malformed tiles and bundles, in reading order.
    structural: Vec<TileFailure>,
    diffs: Vec<Diff>,
    /// Differences beyond [`MAX_DIFFS`]: all, and those in level-0 tiles.
    diffs_omitted: u64,
    diffs_omitted_level0: u64,
    breaks: Vec<Break>,
    stopped: bool,
    entry_bundles: u64,
    hash_tiles: u64,
}

fn hex32(h: &Hash) -> String {
    hex::encode(h)
}

/// `MTH` over the hashes of one tile (a perfect subtree when the tile is full).
fn tile_root(hashes: &[Hash]) -> Hash {
    merkle::root_from_leaf_hashes(hashes)
}

/// Describes position `p` of a tile: the entry for level 0, the entries spanned above.
fn describe(tile: &Tile, position: u16) -> String {
    let level = tile.level().unwrap_or(0);
    let (start, _) = tile.entry_range();
    let span = 1u128 << (TILE_HEIGHT * u32::from(level.min(MAX_TREE_LEVEL)));
    let first = start + u128::from(position) * span;
    if level == 0 {
        format!("hash {position} (entry {first})")
    } else {
        format!("hash {position} (entries {first}..{})", first + span)
    }
}

impl<S: TileSource, F: FnMut(u64, &[u8])> Walk<'_, S, F> {
    fn structural(&mut self, check: TileCheck, tile: &Tile, index: Option<u64>, message: String) {
        self.structural.push(TileFailure {
            check,
            tile: Some(tile.path()),
            index,
            message,
        });
    }

    /// Reads bundle `k` of `width` entries; false if the entries cannot go on.
    fn bundle(&mut self, k: u64, width: u16) -> Result<bool, S::Error> {
        let Some(tile) = Tile::entries(k, width) else {
            return Ok(false);
        };
        let first = k * TILE_WIDTH;
        let Some(bytes) = self.src.fetch(&tile)? else {
            let msg = format!(
                "{tile} is not served: entries {first}..{} cannot be checked",
                first + u64::from(width)
            );
            self.structural(TileCheck::EntryBundle, &tile, Some(first), msg);
            return Ok(false);
        };
        self.entry_bundles += 1;
        let entries = match parse_bundle(&bytes) {
            Ok(e) => e,
            Err(BundleError::Truncated { entry, offset }) => {
                let index = first + entry as u64;
                let msg = format!(
                    "{tile} does not parse: it ends inside entry {index} (its length prefix or its bytes, \
                     at byte {offset} of {})",
                    bytes.len()
                );
                self.structural(TileCheck::EntryBundle, &tile, Some(index), msg);
                return Ok(false);
            }
        };
        if entries.len() != usize::from(width) {
            let msg = format!(
                "{tile} holds {} entries, not {width}: entries {first}..{} cannot be checked",
                entries.len(),
                first + u64::from(width)
            );
            self.structural(TileCheck::EntryBundle, &tile, Some(first), msg);
            return Ok(false);
        }
        for (j, e) in entries.iter().enumerate() {
            let index = first + j as u64;
            (self.on_entry)(index, e);
            let h = merkle::leaf_hash(e);
            // Cannot fail: the size is below the checkpoint's.
            let _ = self.range.push(&h);
            self.levels[0].computed.push(h);
        }
        Ok(true)
    }

    /// Reads the hash tile of `level` whose hashes were just recomputed, compares, and carries a
    /// full tile's hash to the level above.
    fn close(&mut self, level: u8, index: u64) -> Result<(), S::Error> {
        let l = usize::from(level);
        let computed = std::mem::take(&mut self.levels[l].computed);
        let served_below = std::mem::take(&mut self.levels[l].served_below);
        let width = u16::try_from(computed.len()).unwrap_or(0);
        let Some(tile) = Tile::hashes(level, index, width) else {
            return Ok(());
        };
        let served = match self.src.fetch(&tile)? {
            None => {
                let msg = format!("{tile} is not served");
                self.structural(TileCheck::Tile, &tile, None, msg);
                None
            }
            Some(bytes) => {
                self.hash_tiles += 1;
                let hashes = decode_hashes(&bytes, width);
                if hashes.is_none() {
                    let msg = format!(
                        "{tile} has {} bytes, not {} ({width} hashes of 32 bytes)",
                        bytes.len(),
                        usize::from(width) * HASH_LEN
                    );
                    self.structural(TileCheck::Tile, &tile, None, msg);
                }
                hashes
            }
        };
        if let Some(served) = &served {
            for (p, (s, c)) in served.iter().zip(&computed).enumerate() {
                if s != c {
                    if self.diffs.len() < MAX_DIFFS {
                        self.diffs.push(Diff {
                            tile,
                            position: p as u16,
                            served: *s,
                            computed: *c,
                        });
                    } else {
                        self.diffs_omitted += 1;
                        self.diffs_omitted_level0 += u64::from(level == 0);
                    }
                }
            }
            // The served tiles among themselves: this tile's hashes against the served tiles below.
            if level > 0 {
                for (p, (s, below)) in served.iter().zip(&served_below).enumerate() {
                    if below.is_some_and(|b| b != *s) && self.breaks.len() < MAX_DIFFS {
                        let below_index = index * TILE_WIDTH + p as u64;
                        if let Some(below) = Tile::hashes(level - 1, below_index, 256) {
                            self.breaks.push(Break {
                                below,
                                above: tile,
                                position: p as u16,
                            });
                        }
                    }
                }
            }
        }
        if tile.is_full() {
            if l < usize::from(MAX_TREE_LEVEL) {
                self.levels[l + 1].computed.push(tile_root(&computed));
                let served_root = served.as_deref().map(tile_root);
                self.levels[l + 1].served_below.push(served_root);
                if self.levels[l + 1].computed.len() == TILE_WIDTH as usize {
                    self.close(level + 1, (index + 1) / TILE_WIDTH - 1)?;
                }
            }
        } else {
            match served {
                Some(s) => self.levels[l].edge = Some(s),
                None => self.levels[l].edge_missing = true,
            }
        }
        Ok(())
    }

    /// The root of the tree from the served right edge (the partial tile of each level), if every
    /// partial tile was read.
    fn tiles_root(&self) -> Option<Hash> {
        if self.size == 0 {
            return Some(EMPTY_ROOT);
        }
        let mut hashes = Vec::with_capacity(64);
        for level in (0..=MAX_TREE_LEVEL).rev() {
            let w = partial_width(self.size, level);
            if w == 0 {
                continue;
            }
            let edge = self.levels[usize::from(level)].edge.as_ref()?;
            let mut start = 0usize;
            for bit in (0..8).rev() {
                let part = 1usize << bit;
                if usize::from(w) & part != 0 {
                    hashes.push(tile_root(edge.get(start..start + part)?));
                    start += part;
                }
            }
        }
        CompactRange::from_parts(self.size, hashes).ok().map(|r| r.root())
    }
}

/// Verifies the tiles of the tree of `size` leaves with root `root` (from a checkpoint the caller
/// verified): see the module documentation. `on_entry(index, bytes)` sees every entry in order (for
/// checks on the entries themselves and progress). A transport error from `src` aborts.
pub fn verify_tiles<S: TileSource>(
    size: u64,
    root: &Hash,
    src: &mut S,
    on_entry: impl FnMut(u64, &[u8]),
) -> Result<TileReport, S::Error> {
    let mut w = Walk {
        size,
        src,
        on_entry,
        range: CompactRange::new(),
        levels: (0..=MAX_TREE_LEVEL).map(|_| LevelState::default()).collect(),
        structural: Vec::new(),
        diffs: Vec::new(),
        diffs_omitted: 0,
        diffs_omitted_level0: 0,
        breaks: Vec::new(),
        stopped: false,
        entry_bundles: 0,
        hash_tiles: 0,
    };
    let full = full_tiles(size, 0);
    let last = partial_width(size, 0);
    for k in 0..full + u64::from(last != 0) {
        let width = if k < full { 256 } else { last };
        if !w.bundle(k, width)? {
            w.stopped = true;
            break;
        }
        w.close(0, k)?;
    }
    if !w.stopped {
        for level in 1..=MAX_TREE_LEVEL {
            if partial_width(size, level) != 0 {
                w.close(level, full_tiles(size, level))?;
            }
        }
    }
    Ok(judge(w, root))
}

/// Turns what the walk saw into failures (module documentation, "Verification").
fn judge<S: TileSource, F: FnMut(u64, &[u8])>(w: Walk<'_, S, F>, root: &Hash) -> TileReport {
    let entries_root = (!w.stopped && w.range.size() == w.size).then(|| w.range.root());
    let tiles_root = w.tiles_root();
    let tiles_consistent = w.breaks.is_empty()
        && !w.structural.iter().any(|f| f.check == TileCheck::Tile)
        && tiles_root == Some(*root);
    let mut failures: Vec<TileFailure> = w.structural.clone();
    let mut omitted = 0;
    if entries_root == Some(*root) {
        omitted += w.diffs_omitted;
        // The entries are the log the checkpoint signed: every differing served hash is wrong.
        for d in &w.diffs {
            failures.push(TileFailure {
                check: TileCheck::Tile,
                tile: Some(d.tile.path()),
                index: None,
                message: format!(
                    "{}: {} is {}, but the entries give {}; the entries lead to the checkpoint's root, so \
                     the tile is wrong",
                    d.tile,
                    describe(&d.tile, d.position),
                    hex32(&d.served),
                    hex32(&d.computed)
                ),
            });
        }
    } else if tiles_consistent {
        // The served tiles lead to the signed root and agree with each other: an entry whose leaf
        // hash differs from its level-0 tile was changed.
        let mut named = false;
        omitted += w.diffs_omitted_level0;
        for d in w.diffs.iter().filter(|d| d.tile.level() == Some(0)) {
            let index = d.tile.index() * TILE_WIDTH + u64::from(d.position);
            let bundle = Tile::entries(d.tile.index(), d.tile.width()).map(|b| b.path());
            named = true;
            failures.push(TileFailure {
                check: TileCheck::Entry,
                tile: bundle.clone(),
                index: Some(index),
                message: format!(
                    "entry {index} (in {}): its bytes hash to {}, but the leaf hash in {} is {}, which the \
                     checkpoint's root covers: the entry was changed",
                    bundle.unwrap_or_default(),
                    hex32(&d.computed),
                    d.tile,
                    hex32(&d.served)
                ),
            });
        }
        if !named && !w.stopped {
            failures.push(root_failure(&w, root, entries_root, tiles_root));
        }
    } else if !w.stopped || w.structural.is_empty() {
        failures.push(root_failure(&w, root, entries_root, tiles_root));
    }
    // At most PER_CHECK_LIMIT of each check, in order.
    let mut per = [0usize; 4];
    let mut kept = Vec::with_capacity(failures.len().min(4 * PER_CHECK_LIMIT));
    for f in failures {
        let slot = f.check.slot();
        if per[slot] < PER_CHECK_LIMIT {
            per[slot] += 1;
            kept.push(f);
        } else {
            omitted += 1;
        }
    }
    TileReport {
        valid: kept.is_empty() && omitted == 0,
        size: w.size,
        root: hex32(root),
        entries: w.range.size(),
        entry_bundles: w.entry_bundles,
        hash_tiles: w.hash_tiles,
        failures: kept,
        failures_omitted: omitted,
    }
}

fn root_failure<S: TileSource, F: FnMut(u64, &[u8])>(
    w: &Walk<'_, S, F>,
    root: &Hash,
    entries_root: Option<Hash>,
    tiles_root: Option<Hash>,
) -> TileFailure {
    let entries = entries_root.map_or_else(|| "cannot be computed".to_owned(), |r| hex32(&r));
    let tiles = tiles_root.map_or_else(|| "cannot be computed".to_owned(), |r| hex32(&r));
    let mut message = format!(
        "neither the entries (root {entries}) nor the hash tiles (root {tiles}) lead to the checkpoint's root \
         {}",
        hex32(root)
    );
    let mut index = None;
    let mut tile = None;
    if let Some(d) = w.diffs.first() {
        message.push_str(&format!(
            "; entries and tiles first differ at {} {}",
            d.tile,
            describe(&d.tile, d.position)
        ));
        tile = Some(d.tile.path());
        if d.tile.level() == Some(0) {
            index = Some(d.tile.index() * TILE_WIDTH + u64::from(d.position));
        }
    } else if entries_root.is_some() && entries_root == tiles_root {
        message.push_str(
            ": entries and tiles agree with each other, so the checkpoint does not sign this log (or both \
             were rewritten)",
        );
    }
    if let Some(b) = w.breaks.first() {
        message.push_str(&format!(
            "; the served tiles disagree: {} hash {} is not the hash of {}",
            b.above, b.position, b.below
        ));
    }
    TileFailure {
        check: TileCheck::Root,
        tile,
        index,
        message,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::convert::Infallible;

    use super::*;

    #[test]
    fn index_encoding_matches_the_spec() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(5), "005");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        assert_eq!(encode_index(1234), "x001/234");
        assert_eq!(encode_index(1_234_067), "x001/x234/067");
        assert_eq!(encode_index(u64::MAX), "x018/x446/x744/x073/x709/x551/615");
        for n in [
            0,
            1,
            7,
            999,
            1000,
            1001,
            65_535,
            999_999,
            1_000_000,
            1_234_067,
            u64::MAX / 3,
            u64::MAX,
        ] {
            assert_eq!(decode_index(&encode_index(n)), Ok(n), "{n}");
        }
    }

    #[test]
    fn paths_match_the_spec() {
        let t = Tile::hashes(0, 1234, 256).unwrap();
        assert_eq!(t.path(), "tile/0/x001/234");
        assert_eq!(Tile::parse("tile/0/x001/234"), Ok(t));
        let t = Tile::hashes(2, 1_234_067, 17).unwrap();
        assert_eq!(t.path(), "tile/2/x001/x234/067.p/17");
        assert_eq!(Tile::parse(&t.path()), Ok(t));
        let t = Tile::entries(5, 1).unwrap();
        assert_eq!(t.path(), "tile/entries/005.p/1");
        assert_eq!(Tile::parse(&t.path()), Ok(t));
        let t = Tile::entries(0, 256).unwrap();
        assert_eq!(t.path(), "tile/entries/000");
        let t = Tile::hashes(63, 0, 255).unwrap();
        assert_eq!(Tile::parse("tile/63/000.p/255"), Ok(t));
        assert_eq!(t.tree_level(), None, "level 63 is beyond any u64 tree");
        assert_eq!(Tile::hashes(7, 0, 1).unwrap().tree_level(), Some(56));
        assert!(Tile::hashes(64, 0, 1).is_none());
        assert!(Tile::hashes(0, 0, 0).is_none());
        assert!(Tile::entries(0, 257).is_none());
    }

    #[test]
    fn bad_paths_are_refused() {
        for bad in [
            "",
            "tile",
            "tile/",
            "/tile/0/000",
            "tiles/0/000",
            "tile/0",
            "tile/0/",
            "tile/00/000",
            "tile/01/000",
            "tile/64/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/a/000",
            "tile/0/0",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/x001",
            "tile/0/001/234",
            "tile/0/x1/234",
            "tile/0/X001/234",
            "tile/0/x000/001",
            "tile/0/x000/x001/002",
            "tile/0/x001/234/",
            "tile/0/x001//234",
            "tile/0/000.p",
            "tile/0/000.p/",
            "tile/0/000.p/0",
            "tile/0/000.p/00",
            "tile/0/000.p/05",
            "tile/0/000.p/256",
            "tile/0/000.p/1000",
            "tile/0/000.p/1/",
            "tile/0/000.p/1/2",
            "tile/0/000.q/1",
            "tile/0/000.p/1.p/2",
            "tile/0/x000.p/1",
            "tile/0/ 001",
            "tile/entries/0",
            "tile/entries/x001",
            "tile/entries/000.p/0",
            "tile/Entries/000",
            "tile/entries",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        ] {
            assert!(
                Tile::parse(bad).is_err(),
                "{bad:?} parsed as {:?}",
                Tile::parse(bad)
            );
        }
        assert_eq!(
            Tile::parse("tile/0/x018/x446/x744/x073/x709/x551/615").map(|t| t.index()),
            Ok(u64::MAX)
        );
    }

    #[test]
    fn the_spec_examples_of_tile_counts() {
        let tiles: Vec<Tile> = tiles_of(70_000).collect();
        let count = |kind: TileKind, full: bool| {
            tiles
                .iter()
                .filter(|t| t.kind() == kind && t.is_full() == full)
                .count()
        };
        assert_eq!(count(TileKind::Hashes(0), true), 273);
        assert_eq!(count(TileKind::Hashes(0), false), 1);
        assert_eq!(count(TileKind::Entries, true), 273);
        assert_eq!(count(TileKind::Entries, false), 1);
        assert_eq!(count(TileKind::Hashes(1), true), 1);
        assert_eq!(count(TileKind::Hashes(2), true), 0);
        assert_eq!(partial_tile(70_000, 0), Tile::hashes(0, 273, 112));
        assert_eq!(partial_tile(70_000, 1), Tile::hashes(1, 1, 17));
        assert_eq!(partial_tile(70_000, 2), Tile::hashes(2, 0, 1));
        assert_eq!(partial_tile(70_000, 3), None);
        assert_eq!(tiles.len(), 273 * 2 + 2 + 1 + 1 + 1);
        // A tree of 256: one full level-0 tile and a partial level-1 tile of width 1.
        let tiles: Vec<String> = tiles_of(256).map(|t| t.path()).collect();
        assert_eq!(tiles, ["tile/entries/000", "tile/0/000", "tile/1/000.p/1"]);
        assert_eq!(tiles_of(0).count(), 0);
        let tiles: Vec<String> = tiles_of(1).map(|t| t.path()).collect();
        assert_eq!(tiles, ["tile/entries/000.p/1", "tile/0/000.p/1"]);
        // The full level-1 tile comes right after the level-0 tile that completes it.
        let tiles: Vec<String> = tiles_of(65_536 + 3).map(|t| t.path()).collect();
        let at = tiles.iter().position(|p| p == "tile/0/255").unwrap();
        assert_eq!(tiles[at + 1], "tile/1/000");
        assert_eq!(
            tiles[tiles.len() - 3..],
            ["tile/entries/256.p/3", "tile/0/256.p/3", "tile/2/000.p/1"]
        );
        // Every tile of the largest tree is addressable.
        assert_eq!(partial_tile(u64::MAX, 7), Tile::hashes(7, 0, 255));
        assert_eq!(full_tiles(u64::MAX, 7), 0);
    }

    #[test]
    fn bundles_round_trip_and_refuse_truncation() {
        let a = [1u8; 136];
        let b: [u8; 0] = [];
        let c = [7u8; 3];
        let bytes = encode_bundle([&a[..], &b[..], &c[..]]).unwrap();
        assert_eq!(bytes.len(), 2 + 136 + 2 + 2 + 3);
        assert_eq!(&bytes[..2], &[0, 136]);
        assert_eq!(parse_bundle(&bytes).unwrap(), vec![&a[..], &b[..], &c[..]]);
        assert_eq!(parse_bundle(&[]).unwrap().len(), 0);
        assert_eq!(
            parse_bundle(&bytes[..bytes.len() - 1]),
            Err(BundleError::Truncated {
                entry: 2,
                offset: 140
            })
        );
        assert_eq!(
            parse_bundle(&bytes[..1]),
            Err(BundleError::Truncated { entry: 0, offset: 0 })
        );
        assert_eq!(encode_bundle([&vec![0u8; 65_536][..]]), Err(EntryTooLong(65_536)));
        assert!(encode_bundle([&vec![0u8; 65_535][..]]).is_ok());
    }

    /// A log held the way the node holds it: leaves and every complete subtree.
    struct Log {
        leaves: Vec<Vec<u8>>,
        nodes: HashMap<(u8, u64), Hash>,
        root: Hash,
    }

    impl NodeSource for Log {
        type Error = Infallible;
        fn node(&self, level: u8, index: u64) -> Result<Hash, Infallible> {
            Ok(self.nodes[&(level, index)])
        }
    }

    fn leaf(i: u64) -> Vec<u8> {
        let mut l = vec![0u8; 136];
        l[..8].copy_from_slice(&i.to_be_bytes());
        l[8] = (i * 7) as u8;
        l
    }

    fn log(size: u64) -> Log {
        let mut range = CompactRange::new();
        let mut nodes = HashMap::new();
        let leaves: Vec<Vec<u8>> = (0..size).map(leaf).collect();
        for l in &leaves {
            range
                .append_with(&merkle::leaf_hash(l), |level, index, h| {
                    nodes.insert((level, index), *h);
                })
                .unwrap();
        }
        let root = range.root();
        let hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
        assert_eq!(root, merkle::root_from_leaf_hashes(&hashes));
        Log { leaves, nodes, root }
    }

    /// A log of `size` and its tiles as the node serves them; the large one is built once.
    fn fixture(size: u64) -> (std::sync::Arc<Log>, HashMap<String, Vec<u8>>) {
        type Built = (std::sync::Arc<Log>, HashMap<String, Vec<u8>>);
        static BIG: std::sync::OnceLock<Built> = std::sync::OnceLock::new();
        let build = || {
            let log = log(size);
            let files = serve(&log, size);
            (std::sync::Arc::new(log), files)
        };
        if size == 65_536 + 3 {
            let (log, files) = BIG.get_or_init(build);
            return (log.clone(), files.clone());
        }
        build()
    }

    /// Serves a log's tiles, as the node does.
    fn serve(log: &Log, size: u64) -> HashMap<String, Vec<u8>> {
        let mut out = HashMap::new();
        for t in tiles_of(size) {
            let bytes = match t.kind() {
                TileKind::Entries => {
                    let (a, b) = t.node_range().unwrap();
                    encode_bundle(log.leaves[a as usize..b as usize].iter().map(Vec::as_slice)).unwrap()
                }
                TileKind::Hashes(_) => read_hash_tile(&t, log).unwrap().unwrap(),
            };
            out.insert(t.path(), bytes);
        }
        out
    }

    fn run(files: &HashMap<String, Vec<u8>>, size: u64, root: &Hash) -> (TileReport, Vec<u64>) {
        let mut seen = Vec::new();
        let mut src = |t: &Tile| -> Result<Option<Vec<u8>>, Infallible> { Ok(files.get(&t.path()).cloned()) };
        let r = verify_tiles(size, root, &mut src, |i, e| {
            assert_eq!(e.len(), 136);
            seen.push(i);
        })
        .unwrap();
        (r, seen)
    }

    #[test]
    fn a_served_log_verifies_at_every_size() {
        for size in [0u64, 1, 2, 255, 256, 257, 511, 512, 513, 65_536 + 3] {
            let (log, files) = fixture(size);
            // The tiles hold exactly the stored complete subtrees at tree levels 8·L.
            for t in tiles_of(size).filter(|t| t.level().is_some()) {
                let bytes = &files[&t.path()];
                assert_eq!(bytes.len(), usize::from(t.width()) * 32, "{t}");
                let level = t.tree_level().unwrap();
                let (first, _) = t.node_range().unwrap();
                assert_eq!(bytes[..32], log.nodes[&(level, first)], "{t}");
            }
            let (r, seen) = run(&files, size, &log.root);
            assert!(r.valid, "size {size}: {:?}", r.failures);
            assert_eq!(r.entries, size);
            assert_eq!(seen, (0..size).collect::<Vec<_>>());
            assert_eq!(r.entry_bundles, size.div_ceil(256));
            assert_eq!(
                r.hash_tiles,
                tiles_of(size).filter(|t| t.level().is_some()).count() as u64
            );
            // The root of a smaller tree does not verify.
            if size > 0 {
                let (r, _) = run(&files, size, &[0xab; 32]);
                assert!(!r.valid);
                assert_eq!(
                    r.first_failure().unwrap().check,
                    TileCheck::Root,
                    "{:?}",
                    r.failures
                );
            }
        }
    }

    #[test]
    fn a_changed_entry_is_named() {
        for (size, k) in [
            (1u64, 0u64),
            (257, 256),
            (257, 3),
            (65_536 + 3, 40_000),
            (65_536 + 3, 65_537),
        ] {
            let (log, mut files) = fixture(size);
            let bundle = Tile::entries(
                k / 256,
                if k / 256 < full_tiles(size, 0) {
                    256
                } else {
                    partial_width(size, 0)
                },
            )
            .unwrap()
            .path();
            let at = (k % 256) as usize * 138 + 2 + 50;
            files.get_mut(&bundle).unwrap()[at] ^= 1;
            let (r, _) = run(&files, size, &log.root);
            assert!(!r.valid);
            let f = r.first_failure().unwrap();
            assert_eq!(f.check, TileCheck::Entry, "{:?}", r.failures);
            assert_eq!(f.index, Some(k));
            assert_eq!(f.tile.as_deref(), Some(bundle.as_str()));
            assert!(
                f.message.starts_with(&format!("entry {k} (in {bundle}): ")),
                "{}",
                f.message
            );
            assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
        }
    }

    #[test]
    fn a_changed_hash_tile_is_named() {
        let size = 65_536 + 3;
        let (log, served) = fixture(size);
        for (path, position) in [
            ("tile/0/000", 5usize),
            ("tile/0/256.p/3", 2),
            ("tile/0/255", 255),
            ("tile/1/000", 17),
            ("tile/2/000.p/1", 0),
        ] {
            let mut files = served.clone();
            files.get_mut(path).unwrap()[position * 32 + 9] ^= 0x80;
            let (r, _) = run(&files, size, &log.root);
            assert!(!r.valid);
            let f = r.first_failure().unwrap();
            assert_eq!(f.check, TileCheck::Tile, "{path}: {:?}", r.failures);
            assert_eq!(f.tile.as_deref(), Some(path));
            assert!(
                f.message.starts_with(&format!("{path}: hash {position} (")),
                "{}",
                f.message
            );
            assert_eq!(r.failures.len(), 1, "{:?}", r.failures);
        }
    }

    #[test]
    fn missing_and_malformed_tiles_are_named() {
        let size = 600;
        let log = log(size);
        // A missing bundle stops the entries.
        let mut files = serve(&log, size);
        files.remove("tile/entries/001");
        let (r, seen) = run(&files, size, &log.root);
        assert_eq!(seen.len(), 256);
        let f = r.first_failure().unwrap();
        assert_eq!(f.check, TileCheck::EntryBundle);
        assert_eq!(f.index, Some(256));
        assert_eq!(
            f.message,
            "tile/entries/001 is not served: entries 256..512 cannot be checked"
        );
        // A bundle cut short.
        let mut files = serve(&log, size);
        let b = files.get_mut("tile/entries/002.p/88").unwrap();
        b.truncate(b.len() - 1);
        let (r, _) = run(&files, size, &log.root);
        let f = r.first_failure().unwrap();
        assert_eq!((f.check, f.index), (TileCheck::EntryBundle, Some(599)), "{f:?}");
        // A bundle with an extra entry.
        let mut files = serve(&log, size);
        files
            .get_mut("tile/entries/000")
            .unwrap()
            .extend_from_slice(&[0, 1, 9]);
        let (r, _) = run(&files, size, &log.root);
        assert_eq!(
            r.first_failure().unwrap().message,
            "tile/entries/000 holds 257 entries, not 256: entries 0..256 cannot be checked"
        );
        // A missing hash tile; a hash tile of the wrong length.
        let mut files = serve(&log, size);
        files.remove("tile/0/001");
        files.get_mut("tile/1/000.p/2").unwrap().pop();
        let (r, seen) = run(&files, size, &log.root);
        assert_eq!(seen.len(), 600, "the entries are all read");
        let msgs: Vec<&str> = r.failures.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "tile/0/001 is not served",
                "tile/1/000.p/2 has 63 bytes, not 64 (2 hashes of 32 bytes)"
            ]
        );
    }

    #[test]
    fn entries_and_tiles_rewritten_together_fail_on_the_root() {
        let size = 300;
        let good = log(size);
        // Another log of the same size: its entries and tiles agree, but not with the checkpoint.
        let mut other = log(size);
        other.leaves[10][20] ^= 1;
        let mut range = CompactRange::new();
        other.nodes.clear();
        for l in &other.leaves {
            range
                .append_with(&merkle::leaf_hash(l), |level, index, h| {
                    other.nodes.insert((level, index), *h);
                })
                .unwrap();
        }
        let files = serve(&other, size);
        let (r, _) = run(&files, size, &good.root);
        let f = r.first_failure().unwrap();
        assert_eq!(f.check, TileCheck::Root);
        assert!(
            f.message.ends_with(
                "entries and tiles agree with each other, so the checkpoint does not sign this log (or both were \
                 rewritten)"
            ),
            "{}",
            f.message
        );
        // The entry changed in the bundle and its level-0 tile, but not above: the tiles disagree.
        let mut files = serve(&good, size);
        let t0 = read_hash_tile(&Tile::hashes(0, 0, 256).unwrap(), &other)
            .unwrap()
            .unwrap();
        files.insert("tile/0/000".into(), t0);
        let b0 = serve(&other, size).remove("tile/entries/000").unwrap();
        files.insert("tile/entries/000".into(), b0);
        let (r, _) = run(&files, size, &good.root);
        let f = r.first_failure().unwrap();
        assert_eq!(f.check, TileCheck::Root, "{:?}", r.failures);
        assert!(
            f.message
                .contains("the served tiles disagree: tile/1/000.p/1 hash 0 is not the hash of tile/0/000"),
            "{}",
            f.message
        );
    }
}
