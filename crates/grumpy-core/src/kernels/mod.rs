//! Kernels, grouped by family: casting, concatenation, elementwise (binary and unary),
//! reductions, indexing.

pub mod cast;
pub mod concat;
pub mod reduce;
