//! Plan fuzz target: the body is `grumpy_core::plan::fuzz::plan_bytes` (JSON → plan →
//! validate → run on fixed inputs); a panic or an abort is a finding.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = grumpy_core::plan::fuzz::plan_bytes(data);
});
