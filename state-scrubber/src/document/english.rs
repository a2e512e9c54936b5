//! Does a bare name look generated (a password, a token) rather than chosen (`SQLAzure`,
//! `postgres14`, `production`)? Used for the members of an object marked sensitive as a whole
//! (`is_configuration_member`): their configuration is not reported, their secrets are.
//!
//! Two signs, on a value of letters and digits only (a host name, a path, an ARN or a prefixed
//! ID has structure and is judged elsewhere):
//! - digits between letters in two or more places (`k3x9mq2vbz`): chosen names keep digits at
//!   the end of a part (`db01`, `ubuntu2204`, `sha256`) or once inside (`utf8mb4`, `ec2prod`);
//! - letter pairs unlike English: the mean of [`BIGRAM`] over the value's letter pairs (camel
//!   case parts apart) is below -1 bit. Random letters average about -3.2 bits, the docs'
//!   English +1.5.
//!
//! Letters of one case only (`stkspwkhsqgz`, an Azure storage account; `ERQQXOABGULYJV`, a
//! CloudFront ID) are left alone: generated configuration names take that shape, and a password
//! of lower-case letters only is rare. Measured by `configuration_member_rates` (ignored test).

/// Shortest value judged: below this, too few pairs to tell.
const MIN_LEN: usize = 10;
/// Fewest letter pairs for the English test.
const MIN_PAIRS: usize = 8;

/// log2(26 * P(b | a)) * 8 for lower-case letters a (row), b (column), from the English prose
/// of the repository's docs; made by `state-scrubber/bench/bigrams.py`.
#[rustfmt::skip]
const BIGRAM: [[i8; 26]; 26] = [
    [-80, -11, 3, 0, -80, -1, 1, -67, -6, -80, -14, 13, 4, 18, -80, -7, -80, 9, 7, 18, -11, -19, -5, -46, -7, -51],
    [13, 6, -18, -10, 23, -44, -57, -39, 2, -7, -57, 14, -57, -57, 7, -44, -57, -16, -13, -35, 10, -57, -57, -57, 13, -57],
    [9, -58, -5, -52, 14, -48, -58, 13, -15, -70, 6, -2, -41, -52, 16, -31, -58, 22, -22, 5, -6, -70, -70, -70, -9, -70],
    [7, 1, -31, -4, 27, -51, -41, -63, 14, -63, -17, -20, -25, -45, 10, -6, -63, -4, 12, -26, 0, -41, -63, -63, -11, -63],
    [3, -36, 10, 9, -12, -3, -18, -36, -24, -70, -53, -6, -4, 11, -40, -2, -25, 19, 15, 10, -50, -6, -17, -5, -5, -82],
    [7, -64, -31, -46, 3, 11, -64, -64, 23, -64, -51, -12, -39, -64, 22, -17, -51, 5, 10, -1, -3, -64, -51, -64, -64, -64],
    [4, -27, -46, -58, 26, -29, -5, -2, 14, -58, -33, -7, -46, 3, -2, -31, -46, 2, 12, -10, 12, -58, -58, -58, -58, -58],
    [18, -56, -33, -56, 32, -69, -69, -39, 7, -69, -69, -69, -37, -69, 10, -35, -69, -15, -30, -14, -21, -69, -56, -69, -37, -69],
    [-6, -13, -1, 7, -8, -8, 0, -77, -50, -77, -27, 5, -7, 22, 10, -15, -65, -5, 10, 19, -45, -10, -77, -13, -77, -33],
    [-24, -36, -36, -36, 15, -36, -36, -36, -24, -36, -36, -36, -36, -36, 7, -36, -36, -36, 34, -36, -9, -36, -14, -36, -36, -36],
    [-21, -34, -40, -52, 34, -15, -34, -52, 4, -52, -40, -52, -1, -3, -20, -40, -52, -40, 12, -52, -2, -34, -52, -52, -52, -52],
    [12, -70, -40, 3, 21, -18, -57, -57, 14, -70, -26, 7, -39, -57, 10, -40, -70, -22, 4, -3, 14, -32, -30, -51, 6, -70],
    [19, 2, -64, -10, 26, -45, -64, -64, 9, -64, -64, -11, -7, -25, 12, 11, -51, -36, -8, -34, -14, -51, -64, -64, -36, -41],
    [12, -75, 0, 18, 13, -5, 14, -75, -9, -52, -26, -6, -29, -13, 12, -23, -75, -42, 6, 14, -14, -16, -47, -75, -13, -75],
    [-32, -18, -3, -5, -16, 6, -18, -78, -14, -65, -10, 0, 0, 20, -8, -7, -65, 20, -9, 9, 9, 2, -1, -25, -25, -78],
    [14, -47, -35, -22, 10, -66, -36, -4, -5, -66, -53, 18, -44, -66, 12, 6, -66, 17, -5, 8, 3, -53, -26, -53, -4, -66],
    [-29, -29, -29, -29, -29, -29, -29, -29, -29, -29, -29, -1, -29, -29, -29, -29, -29, -29, -29, -29, 36, -29, -29, -29, -29, -29],
    [9, -41, -4, -6, 25, -44, -13, -60, 10, -78, -15, -21, 2, -8, 11, -19, -78, 5, 2, -3, 3, -32, -33, -66, 0, -78],
    [1, -74, 4, -27, 22, -46, -51, 0, 8, -74, -17, -48, -13, -40, 10, -15, -48, -48, 7, 22, -5, -48, -4, -74, -24, -74],
    [13, -49, -24, -29, 21, -16, -61, 23, 9, -80, -80, -21, -36, -61, 7, -19, -80, 1, 9, -7, -22, -34, -23, -57, -12, -80],
    [-17, 6, -11, -3, 17, -31, -13, -67, -5, -67, -67, 12, 4, 13, -26, -3, -67, 16, 8, 15, -36, -67, -67, -45, -67, -45],
    [25, -60, -41, -60, 29, -60, -47, -60, 15, -60, -60, -60, -60, -60, -17, -47, -60, -60, -20, -60, -60, -60, -60, -60, -60, -60],
    [7, -62, -62, -32, 1, -62, -62, 17, 20, -49, -62, -62, -62, 1, 18, -62, -62, 13, 15, -39, -62, -62, -62, -62, -62, -62],
    [16, -42, 12, -30, 2, -20, -42, -42, 18, -42, -42, -42, -42, -42, -42, 7, -42, -30, -42, 21, -30, -42, -42, 9, 10, -42],
    [-7, -44, -2, -44, 2, -44, -31, -44, -2, -44, -44, -19, 12, -11, 5, 14, -44, -31, 26, 16, -44, -44, -7, -44, -44, -44],
    [16, -18, -18, -18, 27, -18, -18, -18, 14, -18, -18, -18, -18, -18, 1, -18, -18, -18, -18, -18, 5, -18, -18, -18, -18, 5],
];

/// Does `v` (already trimmed) look generated: see the module's comment.
pub(super) fn looks_generated(v: &str) -> bool {
    let b = v.as_bytes();
    if b.len() < MIN_LEN || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let lower = b.iter().any(u8::is_ascii_lowercase);
    let upper = b.iter().any(u8::is_ascii_uppercase);
    let digit = b.iter().any(u8::is_ascii_digit);
    if !lower || !(upper || digit) {
        return false;
    }
    // Digit runs followed by a letter.
    let inner = b
        .windows(2)
        .filter(|w| w[0].is_ascii_digit() && w[1].is_ascii_alphabetic())
        .count();
    if inner >= 2 {
        return true;
    }
    // Letter pairs inside one word: not across a digit, nor into a capital after a lower-case
    // letter (`camelCase`), nor from a run of capitals into the capital that starts a word
    // (`HTTPServer`'s `PS`).
    let (mut sum, mut pairs) = (0i32, 0usize);
    for (i, w) in b.windows(2).enumerate() {
        let (x, y) = (w[0], w[1]);
        if !x.is_ascii_alphabetic() || !y.is_ascii_alphabetic() {
            continue;
        }
        if x.is_ascii_lowercase() && y.is_ascii_uppercase() {
            continue;
        }
        if x.is_ascii_uppercase()
            && y.is_ascii_uppercase()
            && b.get(i + 2).is_some_and(u8::is_ascii_lowercase)
        {
            continue;
        }
        let row = (x.to_ascii_lowercase() - b'a') as usize;
        let col = (y.to_ascii_lowercase() - b'a') as usize;
        sum += i32::from(BIGRAM[row][col]);
        pairs += 1;
    }
    pairs >= MIN_PAIRS && sum < -8 * pairs as i32
}

#[cfg(test)]
mod tests {
    use super::looks_generated;
    use crate::document::values::{configuration_member, is_configuration_member};
    use crate::rules::Rules;

    /// Random-looking values (lower case and digits, or letters only) that the shape check
    /// before `looks_generated` took for configuration; configuration names stay configuration.
    #[test]
    fn generated_bare_names_are_not_configuration() {
        let rules = Rules::builtin().unwrap();
        for (i, v) in [
            "fquo6sbegzgsye",
            "bnlzgcjn2qavsy",
            "eefnpaxx3i4iyl",
            "gipiUfqygBAIYT",
            "WJNGKEjmlhnlks",
            "sjowQUuxhuTCKM",
        ]
        .into_iter()
        .enumerate()
        {
            // The index, not the value: it stands for a secret.
            assert!(!is_configuration_member(&rules, "engine", v), "case {i}");
        }
        for v in [
            "SQLAzure",
            "PostgreSQL",
            "postgres14",
            "ubuntu2204",
            "utf8mb4_general_ci",
            "production",
            "MyAppTokensTableProduction",
            "HTTPServerName",
            "westeurope",
            "us-east-1",
            "db01.example.internal",
            "stkspwkhsqgz",
            "ERQQXOABGULYJV",
            "true",
        ] {
            assert!(is_configuration_member(&rules, "engine", v), "{v}");
            assert!(!looks_generated(v), "{v}");
        }
    }

    /// Rates, not a pass/fail check: `cargo test --release -p state-scrubber --lib
    /// configuration_member_rates -- --ignored --nocapture`, optionally with
    /// OFFSTATE_CONFIG_CORPUS=DIR[:DIR...] (e.g. the output of `state-scrubber/bench/corpus.py`;
    /// lines its labels.json names as secret are skipped). Prints, per shape of random secret,
    /// the share taken for configuration (missed) with and without `looks_generated`, and the
    /// configuration strings (JSON string values and Markdown code spans of the corpus, the
    /// tests' data, the bench's org files and the docs) that it newly reports.
    #[test]
    #[ignore]
    fn configuration_member_rates() {
        use std::collections::{BTreeSet, HashSet};
        use std::path::{Path, PathBuf};
        let rules = Rules::builtin().unwrap();
        let before = |v: &str| configuration_member(&rules, "engine", v, false);
        let after = |v: &str| is_configuration_member(&rules, "engine", v);
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const N: usize = 20_000;
        for (name, chars) in [
            (
                "letters",
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
            (
                "letters+digits",
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            ),
            ("lower+digits", "abcdefghijklmnopqrstuvwxyz0123456789"),
            ("upper+digits", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
            ("lower", "abcdefghijklmnopqrstuvwxyz"),
        ] {
            let chars = chars.as_bytes();
            let mut row = format!("{name:>15}");
            for len in [12, 14, 20] {
                let (mut b, mut a) = (0, 0);
                for _ in 0..N {
                    let v: String = (0..len)
                        .map(|_| chars[(next() % chars.len() as u64) as usize] as char)
                        .collect();
                    b += usize::from(before(&v));
                    a += usize::from(after(&v));
                }
                let pct = |n: usize| 100.0 * n as f64 / N as f64;
                row += &format!("  len {len}: {:5.2} % -> {:5.2} %", pct(b), pct(a));
            }
            println!("{row}");
        }
        fn files(p: &Path, out: &mut Vec<PathBuf>) {
            if p.is_dir() {
                for e in std::fs::read_dir(p).unwrap().flatten() {
                    files(&e.path(), out);
                }
            } else {
                out.push(p.to_path_buf());
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs: Vec<PathBuf> = [
            "tests/data",
            "bench/org",
            "../docs",
            "README.md",
            "../README.md",
        ]
        .iter()
        .map(|d| root.join(d))
        .collect();
        if let Ok(extra) = std::env::var("OFFSTATE_CONFIG_CORPUS") {
            dirs.extend(extra.split(':').map(PathBuf::from));
        }
        let mut values = BTreeSet::new();
        for d in &dirs {
            let labels: serde_json::Value = std::fs::read(d.join("labels.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            let mut list = Vec::new();
            files(d, &mut list);
            for f in list {
                if f.ends_with("labels.json") {
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&f) else {
                    continue;
                };
                let skip: HashSet<u64> = labels
                    .get(f.to_string_lossy().as_ref())
                    .and_then(|l| l.as_array())
                    .map(|l| l.iter().filter_map(|n| n.as_u64()).collect())
                    .unwrap_or_default();
                let md = f.extension().is_some_and(|e| e == "md");
                for (i, line) in text.lines().enumerate() {
                    if skip.contains(&(i as u64 + 1)) {
                        continue;
                    }
                    let quote = if md { '`' } else { '"' };
                    let parts: Vec<&str> = line.split(quote).collect();
                    for (j, p) in parts.iter().enumerate() {
                        let key = parts
                            .get(j + 1)
                            .is_some_and(|n| n.trim_start().starts_with(':'));
                        if j % 2 == 1
                            && j + 1 < parts.len()
                            && !key
                            && !p.contains('\\')
                            && !p.trim().is_empty()
                        {
                            values.insert(p.to_string());
                        }
                    }
                }
            }
        }
        let configuration: Vec<&String> = values.iter().filter(|v| before(v)).collect();
        let flagged: Vec<&&String> = configuration.iter().filter(|v| !after(v)).collect();
        println!(
            "configuration strings: {} distinct, {} taken for configuration before, {} now reported",
            values.len(),
            configuration.len(),
            flagged.len()
        );
        for v in flagged {
            println!("  now reported: {v}");
        }
    }
}
