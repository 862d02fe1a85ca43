//! CI smoke run of the `plan` fuzz target on stable: replay every committed input in
//! `fuzz/corpus/plan/` (a panic fails the test); seeds are valid plans that must run.

use std::path::PathBuf;

#[test]
fn replay_plan_corpus() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/plan");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let ran = grumpy_core::plan::fuzz::plan_bytes(&bytes);
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("seed-")
        {
            assert!(
                ran > 0,
                "{}: a seed plan must run on some input",
                p.display()
            );
        }
        n += 1;
    }
    assert!(n > 0);
}

#[path = "../../../fuzz/mutate.rs"]
#[allow(dead_code, unreachable_pub)]
mod mutate;

/// Stable mutation fuzzing of plans for `GRUMPY_FUZZ_SECS` seconds (default 5):
/// `GRUMPY_FUZZ_SECS=600 cargo test -p grumpy-core --test fuzz_corpus -- --ignored --nocapture`.
#[test]
#[ignore = "budgeted fuzz run; see docs/reliability.md"]
fn mutation_fuzz_plan() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/plan");
    let inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let dict = [
        "binary",
        "unary",
        "reduce",
        "where",
        "clip",
        "neighbors",
        "column",
        "set_column",
        "op",
        "kind",
        "src",
        "lhs",
        "rhs",
        "reg",
        "scalar",
        "dim",
        "output",
        "ops",
        "k",
        "radius",
        "loop",
        "same",
        "query",
        "data",
        "cond",
        "lo",
        "hi",
        "path",
        "frame",
        "name",
        "value",
        "add",
        "sub",
        "mul",
        "div",
        "floor_div",
        "rem",
        "pow",
        "eq",
        "lt",
        "gt",
        "and",
        "or",
        "minimum",
        "maximum",
        "neg",
        "abs",
        "sqrt",
        "exp",
        "log",
        "isnan",
        "sum",
        "mean",
        "max",
        "min",
        "prod",
        "any",
        "all",
        "argmax",
        "count",
        "inf",
        "-inf",
        "nan",
        "x",
        "n",
        "mol",
        "atom",
        "float_literals",
    ];
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/artifacts");
    let t = std::time::Instant::now();
    let n = mutate::run(
        "plan",
        &inputs,
        &dict,
        std::time::Duration::from_secs(env("GRUMPY_FUZZ_SECS", 5)),
        env("GRUMPY_FUZZ_SEED", 1),
        &root,
        |b| {
            let _ = grumpy_core::plan::fuzz::plan_bytes(b);
        },
    );
    eprintln!(
        "plan: {n} execs in {:.1} s ({:.0}/s)",
        t.elapsed().as_secs_f64(),
        n as f64 / t.elapsed().as_secs_f64()
    );
}
