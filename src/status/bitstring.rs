//! The bitstring of a status list: encode, decode, read and set entries (Bitstring Status List v1.0
//! §3.2 "Bitstring Encoding", §6.3 "Validate Algorithm").

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// The minimum number of entries a list must have (§6.3 step 8: herd privacy).
pub const MIN_ENTRIES: u64 = 131_072;
/// The largest decompressed list accepted, to bound memory on hostile input (16 MiB = 128 M bits).
pub const MAX_BYTES: usize = 16 << 20;

/// A status list that cannot be used. The names are the spec's error types (§3.4 "Processing Errors").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    /// `encodedList` is not `u` + unpadded base64url of a GZIP stream, or is too large.
    #[error("MALFORMED_VALUE_ERROR: {0}")]
    Malformed(&'static str),
    /// Fewer than 131,072 entries.
    #[error("STATUS_LIST_LENGTH_ERROR: the list has {entries} entries, at least {MIN_ENTRIES} are required")]
    Length {
        /// Entries in the list.
        entries: u64,
    },
    /// The index lies beyond the list.
    #[error("RANGE_ERROR: index {index} is outside a list of {entries} entries")]
    Range {
        /// The index asked for.
        index: u64,
        /// Entries in the list.
        entries: u64,
    },
}

/// A status bitstring with `status_size` bits per entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitstring {
    bytes: Vec<u8>,
    status_size: u8,
}

impl Bitstring {
    /// An all-zero list of `entries` entries of `status_size` bits (rounded up to whole bytes).
    pub fn zeroed(entries: u64, status_size: u8) -> Self {
        let bits = entries * u64::from(status_size.max(1));
        let len = usize::try_from(bits.div_ceil(8))
            .unwrap_or(MAX_BYTES)
            .min(MAX_BYTES);
        Self {
            bytes: vec![0; len],
            status_size: status_size.max(1),
        }
    }

    /// Wraps raw bytes.
    pub fn from_bytes(bytes: Vec<u8>, status_size: u8) -> Self {
        Self {
            bytes,
            status_size: status_size.max(1),
        }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of entries.
    pub fn entries(&self) -> u64 {
        (self.bytes.len() as u64 * 8) / u64::from(self.status_size)
    }

    /// Decodes an `encodedList` and checks the minimum length.
    pub fn decode(encoded: &str, status_size: u8) -> Result<Self, StatusListError> {
        let b64 = encoded.strip_prefix('u').ok_or(StatusListError::Malformed(
            "encodedList lacks the multibase 'u' prefix",
        ))?;
        let gz = URL_SAFE_NO_PAD
            .decode(b64)
            .map_err(|_| StatusListError::Malformed("encodedList is not unpadded base64url"))?;
        let mut bytes = Vec::new();
        GzDecoder::new(gz.as_slice())
            .take(MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Malformed("encodedList is not GZIP"))?;
        if bytes.len() > MAX_BYTES {
            return Err(StatusListError::Malformed("decompressed list exceeds 16 MiB"));
        }
        let list = Self::from_bytes(bytes, status_size);
        if list.entries() < MIN_ENTRIES {
            return Err(StatusListError::Length {
                entries: list.entries(),
            });
        }
        Ok(list)
    }

    /// `u` + base64url(GZIP(bitstring)).
    pub fn encode(&self) -> String {
        let mut enc = GzEncoder::new(Vec::new(), Compression::best());
        // Writing into a Vec cannot fail.
        let gz = enc
            .write_all(&self.bytes)
            .and_then(|()| enc.finish())
            .unwrap_or_default();
        format!("u{}", URL_SAFE_NO_PAD.encode(gz))
    }

    /// The status value of entry `index` (its `status_size` bits, most significant first).
    pub fn get(&self, index: u64) -> Result<u8, StatusListError> {
        let entries = self.entries();
        if index >= entries {
            return Err(StatusListError::Range { index, entries });
        }
        let size = u64::from(self.status_size);
        let mut v = 0u8;
        for b in 0..size {
            let bit = index * size + b;
            let byte = self.bytes[(bit / 8) as usize];
            v = (v << 1) | ((byte >> (7 - (bit % 8))) & 1);
        }
        Ok(v)
    }

    /// Sets entry `index` to `value` (its low `status_size` bits).
    pub fn set(&mut self, index: u64, value: u8) -> Result<(), StatusListError> {
        let entries = self.entries();
        if index >= entries {
            return Err(StatusListError::Range { index, entries });
        }
        let size = u64::from(self.status_size);
        for b in 0..size {
            let bit = index * size + b;
            let on = (value >> (size - 1 - b)) & 1 == 1;
            let mask = 1u8 << (7 - (bit % 8));
            let byte = &mut self.bytes[(bit / 8) as usize];
            if on { *byte |= mask } else { *byte &= !mask }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msb_first_round_trip() {
        let mut l = Bitstring::zeroed(MIN_ENTRIES, 1);
        l.set(0, 1).unwrap();
        l.set(7, 1).unwrap();
        l.set(MIN_ENTRIES - 1, 1).unwrap();
        assert_eq!(&l.as_bytes()[..1], &[0b1000_0001]);
        let d = Bitstring::decode(&l.encode(), 1).unwrap();
        assert_eq!(d.get(0), Ok(1));
        assert_eq!(d.get(1), Ok(0));
        assert_eq!(d.get(MIN_ENTRIES - 1), Ok(1));
        assert!(matches!(d.get(MIN_ENTRIES), Err(StatusListError::Range { .. })));
    }

    #[test]
    fn short_lists_are_refused() {
        let l = Bitstring::zeroed(1000, 1);
        assert!(matches!(
            Bitstring::decode(&l.encode(), 1),
            Err(StatusListError::Length { .. })
        ));
    }
}
