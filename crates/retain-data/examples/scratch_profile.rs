use std::time::Instant;
fn main() {
    let csv = std::env::args().nth(1).unwrap();
    let t = Instant::now();
    let c = retain_data::read_contacts(std::path::Path::new(&csv), &Default::default()).unwrap();
    println!("total {:.2} {}", t.elapsed().as_secs_f64(), c.len());
}
