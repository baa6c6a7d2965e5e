//! Reading transaction files (CSV, gzip CSV, Parquet, globs, hive folders) with column mapping and validation.
