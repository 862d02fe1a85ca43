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
