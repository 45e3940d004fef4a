//! Reading a bundle: [`audit_bundle`] over bytes in memory and [`audit_reader`] over a file streamed
//! in chunks of [`READ_CHUNK`] bytes, both in two passes (metadata lines, then every line), with the
//! line splitter they share.
//!
//! Guarantees: the result is always that of the plain two passes over every line — pass 1 reads
//! only the lines before the first entry line and after the last, and both passes start again over
//! every line if pass 2 meets, between them, a line that pass 1 would have read; a file is never
//! held in memory whole (a longer line grows the buffer).

use super::bundle::ENTRY_LINE_PREFIX;
use super::replay::{AuditConfigError, AuditOptions, LogAuditor};
use super::report::AuditReport;

/// The lines of a bundle, split at `\n` as `<[u8]>::split` does ([`find_newline`]).
pub(super) struct Lines<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match find_newline(rest) {
            Some(n) => {
                self.rest = Some(&rest[n + 1..]);
                Some(&rest[..n])
            }
            None => self.rest.take(),
        }
    }
}

pub(super) fn lines(bytes: &[u8]) -> Lines<'_> {
    Lines { rest: Some(bytes) }
}

/// The index of the first `\n` (`memchr`, vectorized).
fn find_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

pub(super) fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// How often [`audit_bundle`] reports progress, in entries.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Audits a whole evidence bundle held in memory: pass 1 reads the header, checkpoints and proofs,
/// pass 2 the entries. `progress` is called with the number of entries read every
/// [`PROGRESS_EVERY`] entries.
///
/// Pass 1 reads only the lines before the first entry line and after the last one, where the node
/// writes the header and the checkpoints; pass 2 checks that every line between them is an entry line
/// (or empty), which pass 1 would have skipped anyway. If one is not, both passes are done again
/// over every line, so the result is always that of the plain two passes.
pub fn audit_bundle(
    bundle: &[u8],
    opts: AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<AuditReport, AuditConfigError> {
    let (head, tail) = entry_lines_span(bundle);
    let mut auditor = LogAuditor::new(opts.clone())?;
    for line in lines(&bundle[..head]).chain(lines(&bundle[tail..])) {
        auditor.push_metadata_line(line);
    }
    let skipped = (head as u64, tail as u64);
    if push_lines(&mut auditor, bundle, 0, true, Some(skipped), progress).is_some() {
        return Ok(auditor.finish());
    }
    let mut auditor = LogAuditor::new(opts)?;
    for line in lines(bundle) {
        auditor.push_metadata_line(line);
    }
    push_lines(&mut auditor, bundle, 0, true, None, progress);
    Ok(auditor.finish())
}

/// Why [`audit_reader`] could not audit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditReadError {
    /// The options cannot work.
    #[error(transparent)]
    Config(#[from] AuditConfigError),
    /// The bundle could not be read.
    #[error("reading the bundle: {0}")]
    Io(#[from] std::io::Error),
}

/// How much of a bundle [`audit_reader`] holds at a time (more for a longer line).
pub const READ_CHUNK: usize = 1 << 20;

/// [`audit_bundle`] over a bundle read from `reader` (a file), which is never held in memory: pass 1
/// reads the lines before the first entry line and, seeking to the end, those after the last one;
/// pass 2 streams every line through a buffer of [`READ_CHUNK`] bytes, entry lines in the node's
/// form straight from it. As with [`audit_bundle`], a line between the entry lines that pass 1 would
/// have read makes both passes start again over every line.
pub fn audit_reader<R: std::io::Read + std::io::Seek>(
    reader: R,
    opts: AuditOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<AuditReport, AuditReadError> {
    audit_reader_with(reader, opts, progress, READ_CHUNK)
}

pub(super) fn audit_reader_with<R: std::io::Read + std::io::Seek>(
    mut reader: R,
    opts: AuditOptions,
    progress: &mut dyn FnMut(u64),
    chunk: usize,
) -> Result<AuditReport, AuditReadError> {
    use std::io::SeekFrom;
    let mut auditor = LogAuditor::new(opts.clone())?;
    // Pass 1 over the head: the lines before the first entry line.
    let mut start = None;
    feed(&mut reader, chunk, |bytes, offset, eof| {
        let mut at = 0;
        while let Some((line, n)) = next_line(&bytes[at..], eof) {
            if line.starts_with(ENTRY_LINE_PREFIX) {
                start = Some(offset + at as u64);
                return None;
            }
            auditor.push_metadata_line(line);
            at += n;
        }
        Some(at)
    })?;
    // And over the tail: the lines after the last entry line (`None`: pass 1 read every line).
    let skipped = match start {
        None => None,
        Some(start) => {
            let (end, tail) = tail_after_entry_lines(&mut reader, start, chunk)?;
            for line in lines(&tail) {
                auditor.push_metadata_line(line);
            }
            Some((start, end))
        }
    };
    reader.seek(SeekFrom::Start(0))?;
    let mut complete = true;
    feed(&mut reader, chunk, |bytes, offset, eof| {
        let taken = push_lines(&mut auditor, bytes, offset, eof, skipped, progress);
        complete = taken.is_some();
        taken
    })?;
    if complete {
        return Ok(auditor.finish());
    }
    let mut auditor = LogAuditor::new(opts)?;
    reader.seek(SeekFrom::Start(0))?;
    feed(&mut reader, chunk, |bytes, _, eof| {
        let mut at = 0;
        while let Some((line, n)) = next_line(&bytes[at..], eof) {
            auditor.push_metadata_line(line);
            at += n;
        }
        Some(at)
    })?;
    reader.seek(SeekFrom::Start(0))?;
    feed(&mut reader, chunk, |bytes, offset, eof| {
        push_lines(&mut auditor, bytes, offset, eof, None, progress)
    })?;
    Ok(auditor.finish())
}

/// The first line of `bytes` and the bytes it takes with its `\n`; without a `\n`, the rest only
/// at the end of the bundle (`eof`).
fn next_line(bytes: &[u8], eof: bool) -> Option<(&[u8], usize)> {
    match find_newline(bytes) {
        Some(n) => Some((&bytes[..n], n + 1)),
        None if eof && !bytes.is_empty() => Some((bytes, bytes.len())),
        None => None,
    }
}

/// Reads `reader` from where it is, in chunks of at least `chunk` bytes: `take(bytes, offset, eof)`
/// gets the bytes not taken yet (from `offset`; `eof`: they run to the end) and returns how many it
/// took — what it leaves comes again with more — or `None` to stop. At the end it must take all.
fn feed<R: std::io::Read>(
    reader: &mut R,
    chunk: usize,
    mut take: impl FnMut(&[u8], u64, bool) -> Option<usize>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; chunk.max(1)];
    let (mut filled, mut offset, mut eof) = (0, 0u64, false);
    loop {
        while filled < buf.len() && !eof {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let Some(taken) = take(&buf[..filled], offset, eof) else {
            return Ok(());
        };
        if eof {
            return Ok(());
        }
        if taken == 0 {
            // A line longer than the buffer.
            buf.resize(buf.len() * 2, 0);
        } else {
            buf.copy_within(taken..filled, 0);
            filled -= taken;
            offset += taken as u64;
        }
    }
}

/// Where the last entry line ends, and the bytes after it: read backwards from the end, in windows
/// growing from `chunk` bytes, down to `start` at most (where the first entry line begins).
fn tail_after_entry_lines<R: std::io::Read + std::io::Seek>(
    reader: &mut R,
    start: u64,
    chunk: usize,
) -> std::io::Result<(u64, Vec<u8>)> {
    use std::io::SeekFrom;
    let len = reader.seek(SeekFrom::End(0))?;
    let mut window = (chunk.max(1) as u64).min(len - start);
    loop {
        let from = len - window;
        reader.seek(SeekFrom::Start(from))?;
        let mut bytes = vec![0u8; usize::try_from(window).map_err(std::io::Error::other)?];
        reader.read_exact(&mut bytes)?;
        // Line starts within the window, from the last: after a `\n`, or the first entry line's.
        let mut at = bytes.len();
        while at > 0 {
            let line_start = bytes[..at - 1].iter().rposition(|&b| b == b'\n').map(|n| n + 1);
            let line_start = match line_start {
                Some(s) => s,
                None if from == start => 0,
                None => break,
            };
            if bytes[line_start..].starts_with(ENTRY_LINE_PREFIX) {
                let end = find_newline(&bytes[line_start..]).map_or(bytes.len(), |n| line_start + n + 1);
                return Ok((from + end as u64, bytes.split_off(end)));
            }
            at = line_start;
        }
        if from == start {
            // Unreachable: the first entry line begins at `start`.
            return Ok((start, bytes));
        }
        window = (window * 2).min(len - start);
    }
}

/// `[start, end)`: from the first line that starts like an entry line to the end of the last one
/// (empty when there is none).
pub(super) fn entry_lines_span(bundle: &[u8]) -> (usize, usize) {
    let mut start = None;
    let mut at = 0;
    for line in lines(bundle) {
        if line.starts_with(ENTRY_LINE_PREFIX) {
            start = Some(at);
            break;
        }
        at += line.len() + 1;
    }
    let Some(start) = start else {
        return (bundle.len(), bundle.len());
    };
    let mut end = bundle.len();
    loop {
        // The line that ends at `end` (just before its `\n`, if any).
        let body = bundle[..end].strip_suffix(b"\n").unwrap_or(&bundle[..end]);
        let line_start = body.iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
        if bundle[line_start..].starts_with(ENTRY_LINE_PREFIX) || line_start <= start {
            return (start, end.max(start));
        }
        end = line_start;
    }
}

/// Pass 2 over `bytes`, the bundle from byte `offset` on (`eof`: to its end; if not, a line is
/// taken only once its `\n` is there): every line, entry lines in the node's form straight from the
/// bytes. Returns the bytes taken. With `skipped`, the bytes whose lines pass 1 did not read:
/// `None` at a line there that pass 1 would have read.
fn push_lines(
    auditor: &mut LogAuditor,
    bytes: &[u8],
    offset: u64,
    eof: bool,
    skipped: Option<(u64, u64)>,
    progress: &mut dyn FnMut(u64),
) -> Option<usize> {
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if let Some(n) = auditor.push_fast_entry(rest, false, eof) {
            at += n;
            if auditor.entries() % PROGRESS_EVERY == 0 {
                progress(auditor.entries());
            }
            continue;
        }
        let Some((line, n)) = next_line(rest, eof) else {
            break;
        };
        if let Some((start, end)) = skipped {
            let trimmed = trim_line(line);
            let position = offset + at as u64;
            if (start..end).contains(&position)
                && !trimmed.is_empty()
                && !trimmed.starts_with(ENTRY_LINE_PREFIX)
            {
                return None;
            }
        }
        auditor.push_line(line);
        if auditor.entries() % PROGRESS_EVERY == 0 && line.starts_with(ENTRY_LINE_PREFIX) {
            progress(auditor.entries());
        }
        at += n;
    }
    Some(at)
}
