//! CI smoke run of the `plan` fuzz target on stable: replay every committed input in
//! `fuzz/corpus/plan/` (a panic fails the test); seeds are valid plans that must run.

#[test]
fn replay_plan_corpus() {
    mutate::replay("plan", |b| grumpy_core::plan::fuzz::plan_bytes(b) > 0);
}

#[path = "../../../fuzz/mutate.rs"]
#[allow(dead_code, unreachable_pub)]
mod mutate;

/// Stable mutation fuzzing of plans for `GRUMPY_FUZZ_SECS` seconds (default 5):
/// `GRUMPY_FUZZ_SECS=600 cargo test -p grumpy-core --test fuzz_corpus -- --ignored --nocapture`.
#[test]
#[ignore = "budgeted fuzz run; see docs/reliability.md"]
fn mutation_fuzz_plan() {
    mutate::run_budgeted("plan", |b| {
        let _ = grumpy_core::plan::fuzz::plan_bytes(b);
    });
}
