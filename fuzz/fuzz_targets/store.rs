//! Store reader fuzz target: the body is `grumpy_zarr::fuzz::store_bytes` (see its docs for the
//! input format); a panic or an abort is a finding.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = grumpy_zarr::fuzz::store_bytes(data);
});
