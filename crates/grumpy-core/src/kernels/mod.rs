//! Kernels, grouped by family: casting, concatenation, elementwise (binary and unary),
//! reductions, indexing.

pub mod arith;
pub mod broadcast;
pub mod cast;
pub mod cat;
pub mod concat;
pub mod elementwise;
pub mod fill;
pub mod index;
pub mod operand;
pub mod pad;
pub mod reduce;
pub mod unary;
