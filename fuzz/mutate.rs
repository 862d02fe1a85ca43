//! The stable side of the fuzz targets, shared by the `fuzz_corpus` tests of grumpy-core and
//! grumpy-zarr through `#[path]`: [`replay`] runs the committed corpus (`fuzz/corpus/<target>/`),
//! and [`run_budgeted`] is a small mutation fuzzer over it: byte flips, inserts, deletes,
//! duplicated ranges, splices of two corpus inputs, "interesting" numbers spliced over digit
//! runs, and dictionary tokens spliced over JSON strings. Not coverage-guided (that is what
//! `./fuzz/run.sh` adds); it runs where nightly is not available, for a time budget.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `fuzz/` of the repository (both including crates live in `crates/<name>/`).
pub fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The committed inputs of `target` as (file name, bytes), sorted by file name.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Replay every committed input of `target` through `body`, which says whether the input was
/// accepted (a panic fails the calling test); a `seed-*` input must be accepted. Returns the
/// number of accepted inputs.
pub fn replay(target: &str, body: impl Fn(&[u8]) -> bool) -> usize {
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "{target}: empty corpus");
    let mut accepted = 0;
    for (name, bytes) in &inputs {
        let ok = body(bytes);
        assert!(
            ok || !name.starts_with("seed-"),
            "{target}/{name}: a seed must be accepted"
        );
        accepted += usize::from(ok);
    }
    accepted
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The tokens of `fuzz/<target>.dict`, libFuzzer's dictionary format: one `"token"` a line with
/// `\\`, `\"` and `\xNN` escapes; blank lines and `#` comments.
pub fn dict(target: &str) -> Vec<String> {
    let path = fuzz_dir().join(format!("{target}.dict"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let b = line.as_bytes();
        assert!(
            b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"',
            "{target}.dict: {line}"
        );
        let (b, mut tok, mut i) = (&b[1..b.len() - 1], Vec::new(), 0);
        while i < b.len() {
            if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
                let hex = std::str::from_utf8(&b[i + 2..i + 4]).unwrap();
                tok.push(u8::from_str_radix(hex, 16).unwrap());
                i += 4;
            } else if b[i] == b'\\' {
                tok.push(b[i + 1]);
                i += 2;
            } else {
                tok.push(b[i]);
                i += 1;
            }
        }
        out.push(String::from_utf8(tok).unwrap());
    }
    out
}

/// [`run`] over the committed corpus of `target` with the tokens of [`dict`], for
/// `GRUMPY_FUZZ_SECS` seconds (default 5) from seed `GRUMPY_FUZZ_SEED` (default 1); a crashing
/// input goes to `fuzz/artifacts/`. Prints the number of executions.
pub fn run_budgeted(target: &str, body: impl Fn(&[u8])) {
    let inputs: Vec<Vec<u8>> = corpus(target).into_iter().map(|(_, b)| b).collect();
    let tokens = dict(target);
    let dict: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let t = Instant::now();
    let budget = Duration::from_secs(env_u64("GRUMPY_FUZZ_SECS", 5));
    let artifacts = fuzz_dir().join("artifacts");
    let seed = env_u64("GRUMPY_FUZZ_SEED", 1);
    let n = run(target, &inputs, &dict, budget, seed, &artifacts, body);
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "{target}: {n} execs in {secs:.1} s ({:.0}/s)",
        n as f64 / secs
    );
}

/// xorshift64* (deterministic from the seed).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "7",
    "255",
    "256",
    "65536",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551615",
    "1000000000000000",
    "1e300",
    "-0",
    "0.5",
    "null",
    "true",
    "[]",
    "{}",
];

/// Mutate `input` (in place) with 1–4 random edits; `other` is a second corpus input for splices.
pub fn mutate(rng: &mut Rng, input: &mut Vec<u8>, other: &[u8], dict: &[&str]) {
    for _ in 0..1 + rng.below(4) {
        let n = input.len();
        match rng.below(8) {
            0 if n > 0 => {
                let i = rng.below(n);
                input[i] ^= 1 << rng.below(8);
            }
            1 => {
                let i = rng.below(n + 1);
                input.insert(i, rng.next() as u8);
            }
            2 if n > 0 => {
                let a = rng.below(n);
                let b = (a + 1 + rng.below(16)).min(n);
                input.drain(a..b);
            }
            3 if n > 0 => {
                let a = rng.below(n);
                let b = (a + 1 + rng.below(64)).min(n);
                let piece = input[a..b].to_vec();
                let at = rng.below(n + 1);
                input.splice(at..at, piece);
            }
            4 if !other.is_empty() => {
                let a = rng.below(other.len());
                let b = (a + 1 + rng.below(256)).min(other.len());
                let at = rng.below(n + 1);
                let end = (at + rng.below(256)).min(n);
                input.splice(at..end, other[a..b].iter().copied());
            }
            5 | 6 => {
                // replace a digit run (or a JSON string) with a number or a token
                let starts: Vec<usize> = (0..n)
                    .filter(|&i| input[i].is_ascii_digit() || input[i] == b'"')
                    .collect();
                if starts.is_empty() {
                    continue;
                }
                let a = starts[rng.below(starts.len())];
                let mut b = a + 1;
                if input[a] == b'"' {
                    while b < n && input[b] != b'"' {
                        b += 1;
                    }
                    let tok = format!("\"{}", dict[rng.below(dict.len())]);
                    input.splice(a..b, tok.bytes());
                } else {
                    while b < n && (input[b].is_ascii_digit() || input[b] == b'.') {
                        b += 1;
                    }
                    let num = NUMBERS[rng.below(NUMBERS.len())];
                    input.splice(a..b, num.bytes());
                }
            }
            _ => {
                let tok = dict[rng.below(dict.len())];
                let at = rng.below(n + 1);
                input.splice(at..at, tok.bytes());
            }
        }
    }
    input.truncate(1 << 16);
}

/// Run `body` on mutants of `corpus` for `budget`; a panic saves the input to `artifacts` and
/// fails. Returns the number of executions.
pub fn run(
    name: &str,
    corpus: &[Vec<u8>],
    dict: &[&str],
    budget: Duration,
    seed: u64,
    artifacts: &Path,
    body: impl Fn(&[u8]),
) -> u64 {
    let mut rng = Rng::new(seed);
    let t = Instant::now();
    let mut execs = 0u64;
    let mut pool: Vec<Vec<u8>> = corpus.to_vec();
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while t.elapsed() < budget {
        let mut input = pool[rng.below(pool.len())].clone();
        let other = pool[rng.below(pool.len())].clone();
        mutate(&mut rng, &mut input, &other, dict);
        let r = catch_unwind(AssertUnwindSafe(|| body(&input)));
        execs += 1;
        if r.is_err() {
            std::panic::set_hook(prev);
            let _ = std::fs::create_dir_all(artifacts);
            let path = artifacts.join(format!("{name}-crash-{execs}"));
            let _ = std::fs::write(&path, &input);
            body(&input); // re-run with the hook back, so the panic message is shown
            panic!("{name}: a panic; input saved to {}", path.display());
        }
        // keep some mutants as new starting points (a crude stand-in for coverage feedback)
        if rng.below(64) == 0 && pool.len() < 4096 {
            pool.push(input);
        }
    }
    std::panic::set_hook(prev);
    execs
}
