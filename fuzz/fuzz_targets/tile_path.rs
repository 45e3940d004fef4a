//! C2SP tlog-tiles paths: a parsed path is canonical (it prints back as given).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tile) = consentry::log::tiles::Tile::parse(text) {
        assert_eq!(tile.path(), text, "a non-canonical tile path was accepted");
    }
    let _ = consentry::log::tiles::decode_index(text);
});
