//! The product catalogue: stock codes, descriptions, unit prices and popularity.

use rand::Rng;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, Normal};

const ADJECTIVES: &[&str] = &[
    "VINTAGE",
    "HANGING",
    "REGENCY",
    "RETRO",
    "SMALL",
    "LARGE",
    "JUMBO",
    "MINI",
    "PAINTED",
    "GLASS",
    "WOODEN",
    "ENAMEL",
    "FELT",
    "PAPER",
    "CERAMIC",
    "METAL",
    "ROUND",
    "HEART",
    "STAR",
    "FLORAL",
    "SPOTTY",
    "STRIPED",
    "ANTIQUE",
    "CHRISTMAS",
];
const COLOURS: &[&str] = &[
    "WHITE", "RED", "PINK", "BLUE", "GREEN", "IVORY", "CREAM", "SILVER", "GOLD", "BLACK", "PASTEL",
    "ASSORTED", "CHERRY", "LILAC", "ORANGE", "YELLOW",
];
const NOUNS: &[&str] = &[
    "T-LIGHT HOLDER",
    "LANTERN",
    "CAKE STAND",
    "TEA CUP",
    "LUNCH BAG",
    "BUNTING",
    "PHOTO FRAME",
    "DOORSTOP",
    "CANDLE",
    "MUG",
    "JAM JAR",
    "BAKING SET",
    "NOTEBOOK",
    "WRAP",
    "GIFT BOX",
    "COAT HANGER",
    "CUSHION COVER",
    "WALL CLOCK",
    "STORAGE TIN",
    "TRINKET BOX",
    "CHOPSTICKS",
    "PARTY BAG",
    "NAPKINS",
    "DOILY",
    "HOT WATER BOTTLE",
    "SIGN",
    "HEART DECORATION",
];

/// A catalogue of products; `price` is per unit, rounded to cents and > 0.
#[derive(Debug, Clone)]
pub(crate) struct Catalogue {
    pub(crate) stock_code: Vec<String>,
    pub(crate) description: Vec<String>,
    pub(crate) price: Vec<f64>,
    pub(crate) popularity: WeightedAliasIndex<f64>,
}

impl Catalogue {
    /// Draws `n` products (`1 <= n <= 50_000`): distinct stock codes like `85123` or `85123A`,
    /// log-normal prices (median about 2.50, from 0.10 up), Zipf-like popularity.
    pub(crate) fn draw<R: Rng>(rng: &mut R, n: usize) -> Self {
        let step = 70_000 / n as u32;
        let log_price = Normal::new(2.5_f64.ln(), 0.9).expect("valid normal");
        let mut stock_code = Vec::with_capacity(n);
        let mut description = Vec::with_capacity(n);
        let mut price = Vec::with_capacity(n);
        let mut weight = Vec::with_capacity(n);
        for i in 0..n as u32 {
            let number = 20_000 + i * step + rng.random_range(0..step);
            let code = if rng.random_bool(0.2) {
                format!("{number}{}", char::from(b'A' + rng.random_range(0..4u8)))
            } else {
                number.to_string()
            };
            stock_code.push(code);
            let pick =
                |rng: &mut R, words: &[&'static str]| words[rng.random_range(0..words.len())];
            let (a, c, noun) = (pick(rng, ADJECTIVES), pick(rng, COLOURS), pick(rng, NOUNS));
            description.push(format!("{a} {c} {noun}"));
            let p: f64 = log_price.sample(rng).exp().clamp(0.10, 60.0);
            price.push((p * 100.0).round() / 100.0);
            // Zipf-like: the rank is a random position, weight 1 / rank^0.9.
            let rank = 1.0 + rng.random_range(0.0..n as f64);
            weight.push(rank.powf(-0.9));
        }
        let popularity = WeightedAliasIndex::new(weight).expect("positive weights");
        Self {
            stock_code,
            description,
            price,
            popularity,
        }
    }
}
