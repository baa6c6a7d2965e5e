//! The transaction log of a config without contacts is frozen: these SHA-256 digests were taken
//! from `generate_csv` before the contacts simulation existed (commit c4973fc, with
//! `cargo run -p retain-sim --example simulate -- N SEED stream:OUT.csv` and `sha256sum`).
//! The default config's digest is also that of the committed `data/sample/transactions.csv.gz`
//! once decompressed.

use retain_sim::{SimConfig, generate, generate_csv};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn without_contacts_the_bytes_are_those_of_before() {
    for (config, want) in [
        (
            SimConfig::with_clients(400, 11),
            "403c85a4e6ac4d70c13eb31e0b0c5bdfe6fef01a8181380a91270d6500a78e1c",
        ),
        (
            SimConfig::default(),
            "04dcbd6c73c193945113e997236c4f9dcffa969aaa958d727446f4263db68753",
        ),
    ] {
        let mut streamed = Vec::new();
        generate_csv(&config, &mut streamed).unwrap();
        assert_eq!(hex(&streamed), want, "{} clients", config.n_clients);
        let mut written = Vec::new();
        generate(&config).unwrap().write_csv(&mut written).unwrap();
        assert_eq!(written, streamed);
    }
}
