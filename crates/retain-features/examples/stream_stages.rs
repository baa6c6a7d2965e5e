//! Time of each stage of the streamed read on a file (`retain generate --replicate`):
//! reading and cleaning each part, then condensing it.
//!
//! `cargo run --release -p retain-features --example stream_stages -- FILE [PART_LINES]`

use std::time::Instant;

use retain_data::{Layout, PartReader, READ_PART_LINES};
use retain_features::Condenser;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: stream_stages FILE [PART_LINES]")?;
    let part_lines = args
        .next()
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(READ_PART_LINES);
    let mut reader =
        PartReader::open(path.as_ref(), &Layout::online_retail_ii(), None, part_lines)?;
    let (mut t_read, mut t_condense) = (0.0, 0.0);
    let mut c = Condenser::new();
    loop {
        let t = Instant::now();
        let Some(part) = reader.next_part() else {
            break;
        };
        let part = part?;
        t_read += t.elapsed().as_secs_f64();
        let t = Instant::now();
        c.push(&part)?;
        t_condense += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let (stats, ids) = reader.finish()?;
    let _h = c.finish(ids)?;
    let t_finish = t.elapsed().as_secs_f64();
    println!(
        "{} lines, {} parts: read+clean {t_read:.2} s, condense {t_condense:.2} s, stack {t_finish:.2} s",
        stats.lines_read,
        reader_parts(&path, part_lines)?
    );
    Ok(())
}

fn reader_parts(path: &str, part_lines: u64) -> Result<usize, Box<dyn std::error::Error>> {
    Ok(PartReader::open(path.as_ref(), &Layout::online_retail_ii(), None, part_lines)?.parts())
}
