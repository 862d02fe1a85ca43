//! `grumpy._core`: the PyO3 extension. This crate only converts arguments and results; the work
//! happens in `grumpy-core` / `grumpy-zarr`, always through `errors::run` (GIL released,
//! panics caught, errors mapped to `grumpy.errors`).

mod array;
mod construct;
mod convert;
mod dtype;
mod errors;
mod frame;
mod index;
mod interop;
mod neighbors;
mod operand;
mod operators;
mod ops;
mod plan;
mod reduce;
mod storage;
mod stream;
mod ufunc;

use pyo3::prelude::*;

#[global_allocator]
static GLOBAL: grumpy_core::alloc::BufferAlloc = grumpy_core::alloc::BufferAlloc;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::install_panic_hook();
    errors::register(m)?;
    dtype::register(m)?;
    convert::register(m)?;
    array::register(m)?;
    construct::register(m)?;
    index::register(m)?;
    frame::register(m)?;
    stream::register(m)?;
    storage::register(m)?;
    neighbors::register(m)?;
    plan::register(m)?;
    ops::register(m)?;
    reduce::register(m)?;
    interop::register(m)?;
    Ok(())
}
