//! The body of the `plan` fuzz target (`fuzz/fuzz_targets/plan.rs`), kept here so a stable
//! `cargo test` replays the committed corpus (`fuzz/corpus/plan/`): bytes → plan JSON →
//! [`Plan::from_json`] (deserialize + register checks) → validate and run on a few small fixed
//! inputs (ragged floats, ints, bools, 3-D points with nulls, a dataframe). Every outcome is a
//! value or a grumpy error; a panic, an abort or a huge allocation is a bug.
//!
//! ```
//! grumpy_core::plan::fuzz::plan_bytes(br#"{"ops": [{"op": "unary", "kind": "sqrt", "src": 0}], "output": 1}"#);
//! grumpy_core::plan::fuzz::plan_bytes(b"\xff not json");
//! ```

use super::{Plan, Value};
use crate::array::Array;
use crate::frame::Frame;
use crate::layout::Item;
use crate::plan::FrameRef;

fn arr(item: Item) -> Array {
    Array::from_item(&item, None).expect("fixed fuzz input")
}

/// The fixed inputs every parsed plan runs on.
fn inputs() -> Vec<(Value, Vec<Frame>)> {
    let floats = arr(vec![vec![1.0, -2.5], vec![], vec![3.0]].into());
    let ints = arr(vec![vec![1i64, 2, 3], vec![4]].into());
    let bools = arr(vec![vec![true, false], vec![true]].into());
    let points = arr(vec![
        vec![vec![0.0, 0.0, 0.0], vec![1.0, 0.0, 0.0]],
        vec![vec![0.0, 2.0, 1.0]],
    ]
    .into());
    let x = arr(vec![vec![1.0, 2.0], vec![3.0]].into());
    let n = arr(vec![5i64, 6].into());
    let mut out = vec![
        (Value::Array(floats), vec![]),
        (Value::Array(ints), vec![]),
        (Value::Array(bools), vec![]),
        (Value::Array(points), vec![]),
    ];
    if let Ok(f) = Frame::new(
        &["mol", "atom"],
        vec![("x".into(), x), ("n".into(), n)],
        &[],
    ) {
        out.push((Value::Frame(FrameRef { root: 0, level: 0 }), vec![f]));
    }
    out
}

/// Parse `data` as a plan and run it on the fixed inputs; returns how many runs succeeded.
pub fn plan_bytes(data: &[u8]) -> usize {
    let Ok(text) = std::str::from_utf8(data) else {
        return 0;
    };
    let Ok(plan) = Plan::from_json(text) else {
        return 0;
    };
    let _ = plan.explain();
    let _ = Plan::from_json(&plan.to_json());
    inputs()
        .into_iter()
        .filter(|(v, f)| plan.run_outcome(v.clone(), f.clone()).is_ok())
        .count()
}
