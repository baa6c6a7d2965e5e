//! What is wrong with a text file the CSV reader gave up on, in the user's terms: the row and
//! column of an invalid UTF-8 byte, a NUL byte or an unclosed quote; a file whose lines end in
//! CR only; a file that is not CSV at all (gzip named `.csv`, a `.gz` that is not gzip,
//! UTF-16, JSON). polars' own messages for these name no row, or echo the whole file.
//!
//! Runs only on the error path (a failed read, a missing column), so the successful read pays
//! nothing for it: one pass over the file's bytes, decompressed when gzip.

use std::io::Read;
use std::path::Path;

use crate::DataError;

/// The first bytes of a file, decompressed when it is gzip (up to `limit` bytes).
fn bytes(path: &Path, limit: usize) -> Option<Vec<u8>> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut head = [0u8; 2];
    let n = f.read(&mut head).ok()?;
    let f = std::fs::File::open(path).ok()?;
    let mut out = Vec::new();
    if n == 2 && head == [0x1f, 0x8b] {
        // a truncated stream still gives its first bytes
        let _ = flate2::read::MultiGzDecoder::new(f)
            .take(limit as u64)
            .read_to_end(&mut out);
    } else {
        f.take(limit as u64).read_to_end(&mut out).ok()?;
    }
    Some(out)
}

/// What a file that does not read as CSV is instead, from its first bytes and its name.
pub(crate) fn kind(path: &Path) -> Option<String> {
    let mut f = std::fs::File::open(path).ok()?;
    let mut head = vec![0u8; 4096];
    let n = f.read(&mut head).ok()?;
    head.truncate(n);
    let name = path.to_string_lossy().to_ascii_lowercase();
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    if name.ends_with(".gz") && !gzip {
        return Some("its name ends in .gz but it is not gzip-compressed".into());
    }
    if gzip && !name.ends_with(".gz") {
        return Some("it is gzip-compressed but its name does not end in .gz".into());
    }
    if gzip {
        return None;
    }
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Some("it is UTF-16 text: save it as UTF-8".into());
    }
    let nuls = head.iter().filter(|&&b| b == 0).count();
    if n >= 16 && nuls * 4 >= n {
        return Some(
            "it is binary, or UTF-16 text without a byte-order mark: save it as UTF-8 CSV".into(),
        );
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'[' | b'{')) {
        return Some("it looks like JSON, not CSV".into());
    }
    if head.contains(&b'\r') && !head.contains(&b'\n') {
        return Some(
            "its lines end with CR only (old Mac line endings): convert them to LF or CRLF".into(),
        );
    }
    None
}

/// The first structural fault of a CSV text: `(1-based data row, column, value, what)`.
/// `header` says whether the first line names the columns.
pub(crate) fn first_fault(
    path: &Path,
    separator: u8,
    header: bool,
) -> Option<(u64, String, String, String)> {
    let data = bytes(path, 1 << 30)?;
    let text_start = if data.starts_with(&[0xef, 0xbb, 0xbf]) {
        3
    } else {
        0
    };
    let data = &data[text_start..];
    // the header's names, for the column of a fault
    let header_end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let names: Vec<String> = if header {
        split(&data[..header_end], separator)
            .into_iter()
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
            .collect()
    } else {
        Vec::new()
    };
    let column = |i: usize| {
        names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("column_{}", i + 1))
    };
    let mut line = 0u64; // 0 = the first line of the file
    let mut field = 0usize;
    let mut field_start = 0usize;
    let mut quoted = false;
    let mut quote_at: Option<(u64, usize, usize)> = None;
    let row_of = |l: u64| if header { l } else { l + 1 };
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        match b {
            b'"' => {
                if quoted && data.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                quoted = !quoted;
                if quoted {
                    quote_at = Some((line, field, i));
                }
            }
            0 => {
                return Some((
                    row_of(line),
                    column(field),
                    String::from_utf8_lossy(&data[field_start..i]).into_owned(),
                    "text without NUL bytes (is the file binary or UTF-16?)".into(),
                ));
            }
            b'\n' if !quoted => {
                line += 1;
                field = 0;
                field_start = i + 1;
            }
            c if c == separator && !quoted => {
                field += 1;
                field_start = i + 1;
            }
            c if c >= 0x80 => {
                // validate the UTF-8 sequence starting here
                let end = (i + 4).min(data.len());
                let ok = match std::str::from_utf8(&data[i..end]) {
                    Ok(_) => true,
                    Err(e) => e.valid_up_to() > 0,
                };
                if !ok {
                    let stop = data[i..]
                        .iter()
                        .position(|&c| c == separator || c == b'\n')
                        .map_or(data.len(), |k| i + k);
                    return Some((
                        row_of(line),
                        column(field),
                        String::from_utf8_lossy(&data[field_start..stop]).into_owned(),
                        "UTF-8 text (the file has bytes of another encoding, such as Latin-1 \
                         or Windows-1252: save it as UTF-8)"
                            .into(),
                    ));
                }
                let width = match c {
                    0xc0..=0xdf => 2,
                    0xe0..=0xef => 3,
                    _ => 4,
                };
                i += width;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if quoted && let Some((l, f, at)) = quote_at {
        let stop = (at + 40).min(data.len());
        return Some((
            row_of(l),
            column(f),
            String::from_utf8_lossy(&data[at..stop]).into_owned(),
            "a value whose opening quote is closed (this quote is never closed: the rest of \
             the file would be one value)"
                .into(),
        ));
    }
    None
}

/// The fields of one line (quotes respected), for the header.
fn split(line: &[u8], separator: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in line.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == separator && !quoted {
            out.push(&line[start..i]);
            start = i + 1;
        }
    }
    let end = if line.ends_with(b"\r") {
        line.len() - 1
    } else {
        line.len()
    };
    out.push(&line[start..end.max(start)]);
    out
}

/// An error naming what is wrong with `path`, when its bytes explain a failed read.
pub(crate) fn explain(path: &Path, separator: u8, header: bool) -> Option<DataError> {
    if let Some(what) = kind(path) {
        return Some(DataError::Corrupt {
            file: path.to_path_buf(),
            detail: what,
        });
    }
    first_fault(path, separator, header).map(|(row, column, value, expected)| DataError::BadValue {
        file: path.to_path_buf(),
        column,
        row,
        value,
        expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(body: &[u8]) -> Option<(u64, String, String, String)> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.csv");
        std::fs::write(&p, body).unwrap();
        first_fault(&p, b',', true)
    }

    #[test]
    fn faults_are_found_by_row_and_column() {
        let (row, col, value, _) = fault(b"a,b,c\n1,2,3\n4,x\xe9y,6\n").unwrap();
        assert_eq!((row, col.as_str()), (2, "b"));
        assert!(value.starts_with('x'), "{value}");
        let (row, col, _, what) = fault(b"a,b,c\n1,2,3\n4,\"open,6\n7,8,9\n").unwrap();
        assert_eq!((row, col.as_str()), (2, "b"));
        assert!(what.contains("never closed"));
        let (row, col, _, _) = fault(b"a,b,c\n1,2\x003\n").unwrap();
        assert_eq!((row, col.as_str()), (1, "b"));
        assert_eq!(fault("a,b\n\"q\"\"uoted\",é\n".as_bytes()), None);
    }
}
