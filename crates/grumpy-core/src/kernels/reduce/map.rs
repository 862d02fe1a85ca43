//! [`Mapper`]: how a stored leaf value becomes an accumulator input.
//!
//! A plain reduction reads values as they are ([`Identity`]); a compiled plan fuses an
//! elementwise chain into the reduction by passing the chain as a mapper, so `(x * 2.0 +
//! 1.0).mean(dim=1)` is one pass over `x` with no temporary buffer. Two kinds of mappers:
//!
//! - **per value** (`BLOCKED = false`): [`Mapper::one`] is a small monomorphic function (an
//!   identity, an affine `a * x + b`, a closure) that the compiler inlines into the
//!   accumulation loop;
//! - **blocked** (`BLOCKED = true`): a general chain of ops. The hot loops map the input a
//!   block at a time into a small stack buffer with [`Mapper::map_block`] (one tight,
//!   vectorised loop per op over L1-resident data), then accumulate from that buffer, in the
//!   same order as the per-value loops, so results are identical.
//!
//! ```
//! use grumpy_core::kernels::reduce::map::{FnMap, Identity, Mapper};
//! assert_eq!(Mapper::<i32>::one(&Identity, 7), 7);
//! let m = FnMap(|x: f64| x * 2.0);
//! let mut out = [0.0; 2];
//! m.map_block(&[1.0, 2.5], &mut out);
//! assert_eq!(out, [2.0, 5.0]);
//! ```

/// Maps stored values of type `T` to accumulator inputs (see the module docs).
pub trait Mapper<T: Copy>: Sync {
    /// The mapped value type.
    type Out: Copy + Default;
    /// True when mapping block by block beats mapping value by value.
    const BLOCKED: bool;
    /// Map one value.
    fn one(&self, x: T) -> Self::Out;
    /// Map `src` into `dst` (same length).
    fn map_block(&self, src: &[T], dst: &mut [Self::Out]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = self.one(s);
        }
    }
}

/// The identity: plain reductions.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl<T: Copy + Default> Mapper<T> for Identity {
    type Out = T;
    const BLOCKED: bool = false;
    #[inline(always)]
    fn one(&self, x: T) -> T {
        x
    }
}

/// A per-value closure as a mapper.
#[derive(Clone, Copy, Debug)]
pub struct FnMap<F>(pub F);

impl<T: Copy, O: Copy + Default, F: Fn(T) -> O + Sync> Mapper<T> for FnMap<F> {
    type Out = O;
    const BLOCKED: bool = false;
    #[inline(always)]
    fn one(&self, x: T) -> O {
        (self.0)(x)
    }
}

/// Stack buffer length for blocked mappers: a multiple of `4 * S` for every regular row width
/// `S` in 1..=4 (the interleaved accumulators of the reduction loops stay aligned).
pub(crate) const BLOCK: usize = 768;
