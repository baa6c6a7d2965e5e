//! Hash partitioning to temporary files, for an input whose parts do not hold whole clients
//! (neither sorted nor partitioned by client): each part's clean lines are split by a hash
//! of the client into buckets, each bucket appended to its own temporary Parquet file, and
//! the buckets are then read back one at a time, each holding whole clients, in canonical
//! order. Memory holds one part's lines while writing and one bucket's while reading, never
//! every line; the cost is one write and one read of the clean lines on disk.
//!
//! Nothing the buckets give depends on how the lines were split: every later table sums a
//! client's lines in canonical order (client, day, amount, quantity), and lines that tie on
//! all four keys add the same values. The temporary folder (`.retain-spill.<pid>.tmp` in the
//! system's temporary folder, `TMPDIR`) is removed when the [`Spill`] is dropped, on success
//! and on every error; a run killed outright leaves it, and the next spill removes the
//! folders of processes no longer running.

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::read::{canonical_order, polars_err, summarize};
use crate::{DataError, Layout, LoadStats, Transactions};

/// The buckets of a hash-partitioned input (module docs).
pub struct Spill {
    dir: PathBuf,
    input: PathBuf,
    layout: Layout,
    writers: Vec<Option<polars::io::parquet::write::BatchedWriter<std::fs::File>>>,
    lines: Vec<u64>,
    next: usize,
    clients: u64,
}

impl Spill {
    /// A spill of `input`'s lines (read with `layout`) into `buckets` temporary files in a new
    /// folder under `parent` (the system's temporary folder in the command line), after
    /// removing the folders earlier runs killed outright left there.
    pub fn create(
        parent: &Path,
        input: &Path,
        layout: &Layout,
        buckets: usize,
    ) -> Result<Self, DataError> {
        retain_core::remove_stale_temps(parent);
        let dir = parent.join(format!(".retain-spill.{}.tmp", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|source| DataError::Io {
            action: "creating the temporary folder",
            path: dir.clone(),
            source,
        })?;
        let buckets = buckets.max(1);
        Ok(Self {
            dir,
            input: input.to_path_buf(),
            layout: layout.clone(),
            writers: (0..buckets).map(|_| None).collect(),
            lines: vec![0; buckets],
            next: 0,
            clients: 0,
        })
    }

    /// The temporary folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, b: usize) -> PathBuf {
        bucket_path(&self.dir, b)
    }

    /// Appends one part's clean lines (a canonical line table) to the buckets.
    pub fn write(&mut self, part: &Transactions) -> Result<(), DataError> {
        let df = part.frame();
        let buckets = self.writers.len();
        let client = df
            .column(crate::cols::CLIENT)
            .and_then(|c| c.i64().cloned())
            .map_err(polars_err(&self.input))?;
        let mut rows: Vec<Vec<IdxSize>> = vec![Vec::new(); buckets];
        for (i, c) in client.into_no_null_iter().enumerate() {
            // the hash of the hive folders `retain generate --buckets` writes
            rows[crate::bucket_of(c, buckets as u32) as usize].push(i as IdxSize);
        }
        for (b, idx) in rows.into_iter().enumerate() {
            if idx.is_empty() {
                continue;
            }
            let path = self.path(b);
            let io = |source| DataError::Io {
                action: "writing the temporary file",
                path: path.clone(),
                source,
            };
            let chunk = df
                .take(&IdxCa::from_vec("idx".into(), idx))
                .map_err(polars_err(&self.input))?;
            self.lines[b] += chunk.height() as u64;
            if self.writers[b].is_none() {
                let file = std::fs::File::create(&path).map_err(io)?;
                let w = ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Uncompressed)
                    .batched(df.schema())
                    .map_err(polars_err(&path))?;
                self.writers[b] = Some(w);
            }
            self.writers[b]
                .as_mut()
                .expect("opened above")
                .write_batch(&chunk)
                .map_err(polars_err(&path))?;
        }
        Ok(())
    }

    /// The next bucket's lines, whole clients in canonical order, with their counts (every
    /// line of a bucket was kept: the counts of lines read and dropped are the reader's);
    /// `None` after the last. The first call closes the files written.
    pub fn next_bucket(&mut self) -> Option<Result<Transactions, DataError>> {
        if self.next == 0 {
            for (b, w) in self.writers.iter_mut().enumerate() {
                if let Some(w) = w.take()
                    && let Err(e) = w.finish()
                {
                    return Some(Err(polars_err(&bucket_path(&self.dir, b))(e)));
                }
            }
        }
        while self.next < self.lines.len() && self.lines[self.next] == 0 {
            self.next += 1;
        }
        let b = self.next;
        if b >= self.lines.len() {
            return None;
        }
        self.next += 1;
        Some(self.read(b))
    }

    fn read(&mut self, b: usize) -> Result<Transactions, DataError> {
        let path = self.path(b);
        let file = std::fs::File::open(&path).map_err(|source| DataError::Io {
            action: "reading the temporary file",
            path: path.clone(),
            source,
        })?;
        let df = ParquetReader::new(file)
            .finish()
            .map_err(polars_err(&path))?;
        let _ = std::fs::remove_file(&path);
        let keep = canonical_order(df).map_err(polars_err(&path))?;
        let n = keep.height() as u64;
        let stats = summarize(&keep, 0, n, 0, 0).map_err(polars_err(&path))?;
        self.clients += stats.clients;
        Ok(Transactions::of_clean(
            keep,
            stats,
            &self.input,
            &self.layout,
            crate::ClientIds::default(),
        ))
    }

    /// `stats` (the reader's, over every part) with the clients counted over the buckets
    /// read: every client once, since a client's lines are all in one bucket (the parts' own
    /// counts add a client once per part it is in).
    pub fn fix_counts(&self, mut stats: LoadStats) -> LoadStats {
        stats.clients = self.clients;
        stats
    }
}

/// The temporary file of bucket `b` in `dir`.
fn bucket_path(dir: &Path, b: usize) -> PathBuf {
    dir.join(format!("bucket-{b:05}.parquet"))
}

impl Drop for Spill {
    fn drop(&mut self) {
        self.writers.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn buckets_spread_runs_of_codes_evenly() {
        let mut counts = [0usize; 8];
        for c in 12_000..20_000i64 {
            counts[crate::bucket_of(c, 8) as usize] += 1;
        }
        for n in counts {
            assert!((900..1100).contains(&n), "{counts:?}");
        }
    }
}
