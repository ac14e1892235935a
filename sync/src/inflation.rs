//! A bound on what Automerge bytes inflate to, checked before automerge sees them.
//!
//! automerge 0.12 inflates DEFLATE-compressed columns (in document and bundle chunks) and
//! compressed change chunks without a limit: a few megabytes sent by a box, or left on a disk,
//! can inflate to gigabytes and take the hub down. This walks the chunk structure of the binary
//! format (only as deep as the column lengths), inflates each compressed part into a counter
//! that stops at the bound, and refuses the bytes when the whole would pass it. Bytes whose
//! structure cannot be walked are refused too: automerge would refuse them anyway, and a walk
//! that gave up would bound nothing.

use std::io::Read;

use crate::LoadError;

/// Every chunk starts with these bytes.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// A change hash's length.
const HASH: u64 = 32;
/// The bit of a column specification that marks its data as DEFLATE-compressed.
const DEFLATE: u64 = 0b1000;

/// Checks that `bytes` (one or more chunks) inflate to at most `bound` bytes in all.
pub fn within(bytes: &[u8], bound: usize) -> Result<(), LoadError> {
    let mut input = Reader { bytes, at: 0 };
    let mut total = 0usize;
    while !input.done() {
        total = total.saturating_add(chunk(&mut input, bound.saturating_sub(total))?);
        if total > bound {
            return Err(LoadError::Inflates(bound));
        }
    }
    Ok(())
}

/// The inflated size of the chunk at the reader (more than `left` once it passes it).
fn chunk(input: &mut Reader<'_>, left: usize) -> Result<usize, LoadError> {
    if input.take(4)? != MAGIC {
        return Err(malformed());
    }
    input.take(4)?; // checksum
    let kind = input.take(1)?[0];
    let len = input.uleb()?;
    let body = input.take(len)?;
    let mut body = Reader { bytes: body, at: 0 };
    match kind {
        // A change: its columns are never compressed (automerge refuses them if marked so).
        1 => Ok(body.bytes.len()),
        // A compressed change: the whole body is DEFLATE.
        2 => inflated_len(body.bytes, left),
        // A document: actors, heads, then change and op columns.
        // Both groups' column metadata comes before both groups' data, then head indexes.
        0 => {
            body.list(|r| r.prefixed().map(drop))?;
            body.list(|r| r.take(HASH).map(drop))?;
            let (changes, ops) = (body.column_meta()?, body.column_meta()?);
            let size = body.column_data(&changes, left)?;
            let size = size.saturating_add(body.column_data(&ops, left.saturating_sub(size))?);
            Ok(size.saturating_add(body.rest()))
        }
        // A bundle: dependencies, actors, then each group's column metadata before its data.
        3 => {
            body.list(|r| r.take(HASH).map(drop))?;
            body.list(|r| r.prefixed().map(drop))?;
            let changes = body.column_meta()?;
            let size = body.column_data(&changes, left)?;
            let ops = body.column_meta()?;
            let size = size.saturating_add(body.column_data(&ops, left.saturating_sub(size))?);
            Ok(size.saturating_add(body.rest()))
        }
        _ => Err(malformed()),
    }
}

/// How many bytes a DEFLATE stream inflates to, counted up to one past `left`.
fn inflated_len(compressed: &[u8], left: usize) -> Result<usize, LoadError> {
    let mut decoder = flate2::read::DeflateDecoder::new(compressed).take(left as u64 + 1);
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0usize;
    loop {
        match decoder.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(_) => return Err(LoadError::Invalid("a compressed part does not inflate".into())),
        }
    }
}

fn malformed() -> LoadError {
    LoadError::Invalid("not well-formed Automerge data".into())
}

/// A cursor over bytes that fails, never panics, past their end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn rest(&self) -> usize {
        self.bytes.len() - self.at.min(self.bytes.len())
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], LoadError> {
        let n = usize::try_from(n).map_err(|_| malformed())?;
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or_else(malformed)?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    /// An unsigned LEB128 number of at most 64 bits.
    fn uleb(&mut self) -> Result<u64, LoadError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            let part = u64::from(byte & 0x7f);
            if shift == 63 && part > 1 {
                return Err(malformed());
            }
            value |= part << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(malformed())
    }

    /// Bytes prefixed with their length.
    fn prefixed(&mut self) -> Result<&'a [u8], LoadError> {
        let len = self.uleb()?;
        self.take(len)
    }

    /// A count, then that many items read by `item`.
    fn list(&mut self, mut item: impl FnMut(&mut Self) -> Result<(), LoadError>) -> Result<(), LoadError> {
        let count = self.uleb()?;
        for _ in 0..count {
            item(self)?;
        }
        Ok(())
    }

    /// Column metadata: a count, then (specification, length) pairs.
    fn column_meta(&mut self) -> Result<Vec<(u64, u64)>, LoadError> {
        let count = self.uleb()?;
        let mut meta = Vec::new();
        for _ in 0..count {
            let spec = self.uleb()?;
            let len = self.uleb()?;
            meta.push((spec, len));
        }
        Ok(meta)
    }

    /// The columns' data, each compressed one counted inflated.
    fn column_data(&mut self, meta: &[(u64, u64)], left: usize) -> Result<usize, LoadError> {
        let mut size = 0usize;
        for (spec, len) in meta {
            let data = self.take(*len)?;
            let grown = if spec & DEFLATE != 0 { inflated_len(data, left.saturating_sub(size))? } else { data.len() };
            size = size.saturating_add(grown);
            if size > left {
                return Ok(size);
            }
        }
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    /// A document holding `bytes` of one repeated letter: its column compresses to almost
    /// nothing and inflates to the whole.
    fn compressible(bytes: usize) -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "scan", "a".repeat(bytes)).unwrap();
        doc.save()
    }

    #[test]
    fn a_document_that_inflates_past_the_bound_is_refused_before_automerge_sees_it() {
        let saved = compressible(1 << 20);
        assert!(saved.len() < 16 * 1024, "the column is stored compressed: {} bytes", saved.len());
        assert_eq!(within(&saved, 2 << 20), Ok(()));
        assert_eq!(within(&saved, 512 << 10), Err(LoadError::Inflates(512 << 10)));
        // The same through the loaders, with the bound they use: a bomb in the compact form.
        let bomb = compressible(crate::MAX_INFLATED_BYTES + (1 << 20));
        assert!(bomb.len() < crate::MAX_DOCUMENT_BYTES / 100, "{} bytes on the wire", bomb.len());
        assert_eq!(crate::load_document(&bomb).err(), Some(LoadError::Inflates(crate::MAX_INFLATED_BYTES)));
        let mut doc = AutoCommit::new();
        assert_eq!(crate::apply_changes(&mut doc, &bomb), Err(LoadError::Inflates(crate::MAX_INFLATED_BYTES)));
    }

    #[test]
    fn a_compressed_change_chunk_is_counted_inflated() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "scan", "b".repeat(1 << 20)).unwrap();
        doc.commit();
        let mut change = doc.get_last_local_change().unwrap();
        let compressed = change.bytes().to_vec();
        assert_eq!(compressed[8], 2, "automerge compresses a large change");
        assert_eq!(within(&compressed, 512 << 10), Err(LoadError::Inflates(512 << 10)));
        assert_eq!(within(&compressed, 2 << 20), Ok(()));
        // A bundle of the same change compresses its columns.
        let heads = doc.get_heads();
        let bundle = doc.bundle(heads).unwrap();
        assert!(bundle.bytes().len() < 64 * 1024, "{} bytes", bundle.bytes().len());
        assert_eq!(within(bundle.bytes(), 512 << 10), Err(LoadError::Inflates(512 << 10)));
        assert_eq!(within(bundle.bytes(), 2 << 20), Ok(()));
    }

    #[test]
    fn ordinary_documents_and_changes_pass_and_garbage_is_refused() {
        let mut doc = AutoCommit::new();
        for i in 0..50 {
            doc.put(ROOT, format!("field{i}"), i as i64).unwrap();
            doc.commit();
        }
        let saved = doc.save();
        assert_eq!(within(&saved, 1 << 20), Ok(()));
        let mut other = AutoCommit::new();
        other.put(ROOT, "x", "y").unwrap();
        let incremental = [saved.clone(), other.save_incremental()].concat();
        assert_eq!(within(&incremental, 1 << 20), Ok(()));
        for bad in [&b"not automerge"[..], &saved[..saved.len() - 3], &[0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 9, 0]] {
            assert!(matches!(within(bad, 1 << 20), Err(LoadError::Invalid(_))), "{bad:?}");
        }
    }
}
