//! The Rust batch scheduler's unit of work: read batch `i`, run the plan on it, hand back an
//! [`Outcome`] — the result, or the batch itself when the plan does not apply to it (the
//! caller then runs the Python bodies on that one batch).
//!
//! `Stream.apply(..., scheduler="rust", cpu=n)` runs this job on `n` threads of an ordered,
//! bounded prefetcher (`grumpy_zarr::stream::Prefetcher`): each thread reads a batch and runs
//! the plan on it, so a batch never waits for a hand-off between a reader and a worker, at
//! most `prefetch` batches are in flight, results come out in batch order, and no thread holds
//! the GIL.
//!
//! ```text
//!   thread k:  claim i ──► read(i) ──► plan.run_outcome(batch) ──► slot i ──► consumer (in order)
//! ```
//!
//! ```
//! use grumpy_core::{array::Array, plan::{Outcome, Plan, Value, schedule::job}};
//! let plan = std::sync::Arc::new(Plan::from_json(r#"{"ops": [{"op": "binary", "kind": "add",
//!     "lhs": {"reg": 0}, "rhs": {"scalar": 1}}], "output": 1}"#).unwrap());
//! let run = job(plan, |i| Ok(Value::Array(Array::from_vec(vec![i as i64]))));
//! let Ok(Outcome::Done(Value::Array(a), _)) = run(4) else { panic!() };
//! assert_eq!(a.to_item(), vec![5i64].into());
//! ```

use super::{Outcome, Plan, Value};
use crate::error::Result;
use crate::frame::Frame;
use std::sync::Arc;

/// The per-batch job: `read(i)` then the plan (see the module docs).
pub fn job<R>(plan: Arc<Plan>, read: R) -> impl Fn(usize) -> Result<Outcome> + Send + Sync + 'static
where
    R: Fn(usize) -> Result<Value> + Send + Sync + 'static,
{
    move |i| plan.run_outcome(read(i)?, Vec::<Frame>::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::Array;

    #[test]
    fn batches_the_plan_does_not_apply_to_come_back_untouched() {
        let plan = Arc::new(
            Plan::from_json(r#"{"ops": [{"op": "column", "src": 0, "path": ["x"]}], "output": 1}"#)
                .unwrap(),
        );
        let run = job(plan, |i| Ok(Value::Array(Array::from_vec(vec![i as f64]))));
        match run(3).unwrap() {
            Outcome::Fallback(Value::Array(a), frames, e) => {
                assert_eq!(a.to_item(), vec![3.0].into());
                assert!(frames.is_empty());
                assert_eq!(e.code(), crate::Code::Unsupported);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn read_errors_pass_through() {
        let plan = Arc::new(Plan::from_json(r#"{"ops": [], "output": 0}"#).unwrap());
        let run = job(plan, |_| {
            Err(crate::Error::new(crate::Code::Store, "gone", "x", "y"))
        });
        assert_eq!(run(0).unwrap_err().code(), crate::Code::Store);
    }
}
