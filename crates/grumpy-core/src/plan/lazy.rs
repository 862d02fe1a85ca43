//! Lazy fusion for eager code: a large float `x ⊕ scalar` result is a *deferred* buffer (a
//! [`Buf::deferred`] whose source is the chain of scalar ops over `x`'s values), so that
//! `(x * 2.0 + 1.0).mean(dim=1)` written eagerly runs like the compiled plan: the reduction
//! finds the pending chain and folds it into its own pass ([`reduce_pending`]), with no
//! temporary buffer. Any other access to the values (indexing, `to_numpy`, another kernel,
//! writes) computes them once, in one fused pass over `x`, and keeps them.
//!
//! ```text
//!   y = x * 2.0          Leaf { F64(deferred: x.values ─[mul 2]─►) }        nothing computed
//!   z = y + 1.0          Leaf { F64(deferred: x.values ─[mul 2, add 1]─►) } still nothing
//!   z.mean(dim=1)        reduce_with(x, mean, Affine(2, 1))                 one pass over x
//!   z.to_numpy()         x.values ─[mul 2, add 1]─► computed once, kept
//! ```
//!
//! Transparency: the chain compiles to a [`Program`] that is bit-identical to the eager kernels
//! op by op (see `program.rs`), and a fused reduction is bit-identical to reducing the mapped
//! values (see `reduce_fused.rs`), so no result depends on whether a value was computed early
//! or late. Only computations that cannot fail are deferred (float ops on float leaves with a
//! weak scalar that keeps the dtype), only over values that cannot change before they are
//! read: grumpy-owned buffers are copy-on-write, while memory borrowed from NumPy
//! ([`Buf::is_foreign`]) may be written by its owner, so an op on it runs at once. Small
//! inputs (below [`LAZY_MIN`] values) run at once too: deferring pays only where a temporary
//! costs memory traffic. Chains are capped at [`MAX_CHAIN`] ops.

use super::fuse::MapOp;
use super::program::{Float, Program};
use crate::array::Array;
use crate::buffer::{Buf, Deferred, Values};
use crate::dtype::Scalar;
use crate::error::Result;
use crate::kernels::elementwise::BinaryOp;
use crate::kernels::reduce::accum::Reducible;
use crate::kernels::reduce::{ReduceOp, Reduced};
use crate::layout::{Layout, Leaf};
use std::any::Any;
use std::sync::Arc;

/// Inputs with fewer values are computed at once.
pub(crate) const LAZY_MIN: usize = 1 << 16;
/// Longest chain kept pending; one more op computes the chain first.
pub(crate) const MAX_CHAIN: usize = 8;

/// A pending chain of scalar ops over `base` (what a deferred buffer computes).
struct Chain<T: Float> {
    base: Buf<T>,
    ops: Vec<MapOp>,
    prog: Program<T>,
}

impl<T: Float> Deferred<T> for Chain<T> {
    fn len(&self) -> usize {
        self.base.len()
    }
    fn compute(&self) -> Vec<T> {
        self.prog.map_vec(self.base.as_slice())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The pending chain behind `b` (base cut to `b`'s view, ops), if `b` is such a deferred
/// buffer whose values have not been computed.
fn pending_chain<T: Float>(b: &Buf<T>) -> Option<(Buf<T>, Vec<MapOp>)> {
    let (src, start, len) = b.pending()?;
    let c = src.as_any().downcast_ref::<Chain<T>>()?;
    Some((c.base.slice(start, len), c.ops.clone()))
}

fn defer_typed<T: Float>(b: &Buf<T>, step: MapOp) -> Option<Buf<T>> {
    if b.len() < LAZY_MIN {
        return None;
    }
    let (base, mut ops) = match pending_chain(b) {
        Some((base, ops)) if ops.len() < MAX_CHAIN => (base, ops),
        Some(_) => {
            // A full chain: compute it now, so a base is never itself pending (deferred
            // buffers never nest, however long the expression).
            b.as_slice();
            (b.clone(), Vec::new())
        }
        None if b.is_foreign() => return None,
        None => (b.clone(), Vec::new()),
    };
    ops.push(step);
    let prog = Program::<T>::compile(&ops)?;
    Some(Buf::deferred(Arc::new(Chain { base, ops, prog })))
}

/// The values of `leaf ⊕ s` (`s ⊕ leaf` when `scalar_left`) as a deferred buffer, when that is
/// allowed (see the module docs); `None` → compute now. The caller has checked that the op
/// keeps the leaf's float dtype and handles validity.
pub(crate) fn defer_scalar_op(
    op: BinaryOp,
    values: &Values,
    s: &Scalar,
    scalar_left: bool,
) -> Option<Values> {
    use BinaryOp::*;
    if !matches!(op, Add | Sub | Mul | Div) || !matches!(s, Scalar::Int(_) | Scalar::Float(_)) {
        return None;
    }
    let step = MapOp::Binary {
        op,
        scalar: s.clone(),
        scalar_left,
    };
    match values {
        Values::F64(b) => defer_typed(b, step).map(Values::F64),
        Values::F32(b) => defer_typed(b, step).map(Values::F32),
        _ => None,
    }
}

/// Reduce `a` by fusing the pending chain of its leaf into the reduction, when its only leaf
/// is a deferred chain not yet computed; `None` → reduce as usual.
pub(crate) fn reduce_pending(
    a: &Array,
    op: ReduceOp,
    dim: Option<isize>,
) -> Result<Option<Reduced>> {
    if a.layout.has_union() {
        return Ok(None);
    }
    let leaves = a.layout.leaves();
    let [leaf] = leaves.as_slice() else {
        return Ok(None);
    };
    match &leaf.values {
        Values::F64(b) => fused::<f64>(a, b, op, dim),
        Values::F32(b) => fused::<f32>(a, b, op, dim),
        _ => Ok(None),
    }
}

fn fused<T: Float + Reducible>(
    a: &Array,
    b: &Buf<T>,
    op: ReduceOp,
    dim: Option<isize>,
) -> Result<Option<Reduced>> {
    let Some((base, ops)) = pending_chain(b) else {
        return Ok(None);
    };
    let layout: Layout = a.layout.map_leaves(&mut |l: &Leaf| {
        Ok::<_, crate::error::Error>(Leaf::new(T::wrap(base.clone()), l.validity.clone()))
    })?;
    super::reduce_fused::try_fused(&ops, op, dim, &Array::new(layout))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::elementwise::{binary, Operand};
    use crate::kernels::reduce::reduce;
    use crate::layout::List;

    fn proteins(n: usize, foreign: bool) -> (Array, Vec<f64>) {
        let lens: Vec<usize> = (0..n).map(|i| 100 + (i * 37) % 150).collect();
        let mut offsets = vec![0i64];
        for l in &lens {
            offsets.push(offsets.last().unwrap() + *l as i64);
        }
        let res = *offsets.last().unwrap() as usize;
        let vals: Vec<f64> = (0..res * 3)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.37 - 150.0)
            .collect();
        let values = if foreign {
            let keep = Arc::new(vals.clone());
            // SAFETY: `keep` owns the memory, nobody writes it, and it lives as long as the buffer.
            Values::F64(unsafe {
                Buf::from_foreign(keep.as_ptr(), keep.len(), Box::new(keep.clone()))
            })
        } else {
            Values::from(vals.clone())
        };
        let xyz = Layout::List(List::new(
            Buf::arithmetic(res, 3),
            None,
            Layout::Leaf(Leaf::valid(values)),
        ));
        (
            Array::new(Layout::List(List::new(Buf::from_vec(offsets), None, xyz))),
            vals,
        )
    }

    fn leaf_buf(a: &Array) -> Buf<f64> {
        match &a.layout.leaves()[0].values {
            Values::F64(b) => b.clone(),
            _ => unreachable!(),
        }
    }

    fn scal(op: BinaryOp, a: &Array, s: f64) -> Array {
        binary(op, Operand::Array(a), Operand::Scalar(&Scalar::Float(s))).unwrap()
    }

    #[test]
    fn large_owned_results_are_deferred_and_fused_bit_identically() {
        let (x, vals) = proteins(600, false);
        let y = scal(BinaryOp::Mul, &x, 2.0);
        let z = scal(BinaryOp::Add, &y, 1.0);
        assert!(leaf_buf(&z).pending().is_some());
        let want: Vec<f64> = vals.iter().map(|v| v * 2.0 + 1.0).collect();
        for (op, dim) in [
            (ReduceOp::Mean, Some(1)),
            (ReduceOp::Sum, None),
            (ReduceOp::Max, Some(-1)),
            (ReduceOp::Min, Some(0)),
        ] {
            let fused = reduce(&z, op, dim).unwrap();
            assert!(
                leaf_buf(&z).pending().is_some(),
                "a reduction does not compute the chain"
            );
            let plain = Array::new(
                z.layout
                    .map_leaves(&mut |l: &Leaf| {
                        Ok::<_, ()>(Leaf::new(Values::from(want.clone()), l.validity.clone()))
                    })
                    .unwrap(),
            );
            assert_eq!(fused, reduce(&plain, op, dim).unwrap(), "{op:?} {dim:?}");
        }
        // Any other access computes the values, once; y and x are untouched.
        assert_eq!(leaf_buf(&z).as_slice(), want.as_slice());
        assert!(leaf_buf(&z).pending().is_none());
        assert_eq!(leaf_buf(&x).as_slice(), vals.as_slice());
        let y_want: Vec<f64> = vals.iter().map(|v| v * 2.0).collect();
        assert_eq!(leaf_buf(&y).as_slice(), y_want.as_slice());
    }

    #[test]
    fn foreign_small_and_unsupported_inputs_compute_at_once() {
        let (x, _) = proteins(600, true);
        assert!(leaf_buf(&scal(BinaryOp::Mul, &x, 2.0)).pending().is_none());
        let (small, _) = proteins(3, false);
        assert!(leaf_buf(&small).len() < LAZY_MIN);
        assert!(leaf_buf(&scal(BinaryOp::Mul, &small, 2.0))
            .pending()
            .is_none());
        let (x, _) = proteins(600, false);
        assert!(leaf_buf(&scal(BinaryOp::FloorDiv, &x, 2.0))
            .pending()
            .is_none());
        // On a foreign leaf the first op runs, the next ones (over owned memory) are deferred.
        let (f, _) = proteins(600, true);
        let y = scal(BinaryOp::Sub, &scal(BinaryOp::Mul, &f, 2.0), 1.0);
        assert!(leaf_buf(&y).pending().is_some());
    }

    #[test]
    fn chains_are_capped_and_writes_do_not_leak() {
        let (x, vals) = proteins(600, false);
        let mut cur = x.clone();
        let mut want = vals.clone();
        for i in 0..(MAX_CHAIN + 3) {
            cur = scal(BinaryOp::Add, &cur, i as f64);
            want.iter_mut().for_each(|v| *v += i as f64);
        }
        assert_eq!(leaf_buf(&cur).as_slice(), want.as_slice());
        // A long eager loop never nests deferred buffers (no deep recursion on compute/drop).
        let mut cur = x.clone();
        for _ in 0..5000 {
            cur = scal(BinaryOp::Mul, &cur, 1.0);
        }
        assert_eq!(leaf_buf(&cur).as_slice(), vals.as_slice());
        // A write to a deferred result copies or computes first; the input never changes.
        let y = scal(BinaryOp::Mul, &x, 3.0);
        let mut b = leaf_buf(&y);
        b.make_mut()[0] = 42.0;
        assert_eq!(b[0], 42.0);
        assert_eq!(leaf_buf(&y)[0], vals[0] * 3.0);
        assert_eq!(leaf_buf(&x).as_slice(), vals.as_slice());
    }
}
