//! Resolving an input path (file, glob, folder, hive-partitioned folder) into data files.

use std::path::{Path, PathBuf};

use crate::DataError;

/// A data file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// Delimited text, possibly gzip- or zstd-compressed.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// A table handed over in memory ([`DataFile::table`]).
    Table,
}

/// One data file of an input, with the hive partition values found in its path
/// (`.../country=UK/year=2011/part-0.parquet` gives `[("country","UK"), ("year","2011")]`).
#[derive(Debug, Clone, PartialEq)]
pub struct DataFile {
    /// The file.
    pub path: PathBuf,
    /// Its format, from the extension.
    pub format: FileFormat,
    /// `key=value` folders between the input root and the file.
    pub partitions: Vec<(String, String)>,
    /// The table itself when the lines were handed over in memory (an Arrow stream from
    /// Python) rather than stored in a file; `path` then names it in messages.
    pub table: Option<MemoryTable>,
}

/// A table handed over in memory, read as a file would be ([`crate::read_table`]).
#[derive(Clone)]
pub struct MemoryTable(pub std::sync::Arc<polars::prelude::DataFrame>);

impl std::fmt::Debug for MemoryTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (rows, columns) = self.0.shape();
        write!(f, "MemoryTable({rows} rows, {columns} columns)")
    }
}

/// The same table, not equal contents: two handed-over tables are told apart by identity.
impl PartialEq for MemoryTable {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

fn format_of(path: &Path) -> Option<FileFormat> {
    let name = path.file_name()?.to_string_lossy().to_lowercase();
    if name.starts_with('.') || name.starts_with('_') {
        return None; // _SUCCESS, .crc and other engine droppings
    }
    if name.ends_with(".parquet") || name.ends_with(".pq") {
        Some(FileFormat::Parquet)
    } else if [
        ".csv", ".csv.gz", ".csv.zst", ".txt", ".tsv", ".txt.gz", ".tsv.gz",
    ]
    .iter()
    .any(|e| name.ends_with(e))
    {
        Some(FileFormat::Csv)
    } else {
        None
    }
}

fn partitions_of(root: &Path, file: &Path) -> Vec<(String, String)> {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.parent()
        .into_iter()
        .flat_map(|p| p.components())
        .filter_map(|c| {
            let s = c.as_os_str().to_string_lossy();
            let (k, v) = s.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    let entries = std::fs::read_dir(dir).map_err(|source| DataError::Io {
        action: "listing",
        path: dir.to_path_buf(),
        source,
    })?;
    for e in entries {
        let p = e
            .map_err(|source| DataError::Io {
                action: "listing",
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Resolves `input` — a file, a glob (`exports/*.parquet`), or a folder searched recursively
/// (hive-style `key=value` folders become columns) — into its data files, sorted by path so
/// that reading order, and so every output, is deterministic.
pub fn resolve(input: &Path) -> Result<Vec<DataFile>, DataError> {
    let text = input.to_string_lossy();
    let (root, mut files) = if input.is_file() {
        let format = format_of(input).unwrap_or(FileFormat::Csv);
        return Ok(vec![DataFile {
            path: input.to_path_buf(),
            format,
            partitions: vec![],
            table: None,
        }]);
    } else if input.is_dir() {
        let mut v = Vec::new();
        walk(input, &mut v)?;
        (input.to_path_buf(), v)
    } else if text.contains(['*', '?', '[']) {
        let paths = glob::glob(&text)
            .map_err(|e| DataError::Config(format!("bad glob `{text}`: {e}")))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect::<Vec<_>>();
        let root = text
            .find(['*', '?', '['])
            .map(|i| PathBuf::from(&text[..i]))
            .and_then(|p| {
                if p.is_dir() {
                    Some(p)
                } else {
                    p.parent().map(Path::to_path_buf)
                }
            })
            .unwrap_or_default();
        if paths.is_empty() {
            return Err(DataError::NotFound(input.to_path_buf()));
        }
        (root, paths)
    } else {
        return Err(DataError::NotFound(input.to_path_buf()));
    };
    files.sort();
    let out: Vec<DataFile> = files
        .into_iter()
        .filter_map(|p| {
            let format = format_of(&p)?;
            Some(DataFile {
                partitions: partitions_of(&root, &p),
                path: p,
                format,
                table: None,
            })
        })
        .collect();
    if out.is_empty() {
        return Err(DataError::NoFiles {
            path: input.to_path_buf(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hive_folders_become_partitions_and_droppings_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("country=UK/year=2011");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("part-0.parquet"), b"x").unwrap();
        std::fs::write(p.join("_SUCCESS"), b"").unwrap();
        std::fs::write(dir.path().join("notes.md"), b"").unwrap();
        let files = resolve(dir.path()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].format, FileFormat::Parquet);
        assert_eq!(
            files[0].partitions,
            vec![
                ("country".into(), "UK".into()),
                ("year".into(), "2011".into())
            ]
        );
        let glob = resolve(&dir.path().join("*/*/*.parquet")).unwrap();
        assert_eq!(glob[0].partitions.len(), 2);
        assert!(matches!(
            resolve(&dir.path().join("nothing*.csv")),
            Err(DataError::NotFound(_))
        ));
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            resolve(empty.path()),
            Err(DataError::NoFiles { .. })
        ));
    }
}
