//! scratch
use polars::prelude::*;
use std::time::Instant;
fn main() {
    let csv = std::env::args().nth(1).unwrap();
    let mode = std::env::args().nth(2).unwrap();
    let path = PlRefPath::new(&csv);
    let s: Schema = ["client_id", "cost"]
        .iter()
        .map(|c| Field::new((*c).into(), DataType::Float64))
        .collect();
    let lf = LazyCsvReader::new(path.clone())
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_dtype_overwrite(Some(Arc::new(s)))
        .finish()
        .unwrap();
    let t = Instant::now();
    let n = match mode.as_str() {
        "stream" => lf
            .collect_with_engine(Engine::Streaming)
            .unwrap()
            .unwrap_single()
            .height(),
        "mem" => lf
            .collect_with_engine(Engine::InMemory)
            .unwrap()
            .unwrap_single()
            .height(),
        "reader" => {
            let s: Schema = ["client_id", "cost"]
                .iter()
                .map(|c| Field::new((*c).into(), DataType::Float64))
                .collect();
            CsvReadOptions::default()
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_schema_overwrite(Some(Arc::new(s)))
                .try_into_reader_with_file_path(Some(csv.clone().into()))
                .unwrap()
                .finish()
                .unwrap()
                .height()
        }
        _ => 0,
    };
    println!("{mode}: {:.2} {n}", t.elapsed().as_secs_f64());
}
