//! The executor: runs fused steps over registers holding arrays, scalars or frames.

use super::fuse::{MapOp, Step};
use super::ir::{Arg, Op, PlanIr, Reg};
use super::program::Program;
use super::value::Value;
use crate::array::Array;
use crate::buffer::{Buf, Values};
use crate::dtype::Scalar;
use crate::error::{Code, Error, Result};
use crate::frame::Frame;
use crate::kernels::elementwise::{binary, binary_scalar_owned, Operand};
use crate::kernels::reduce::{reduce, ReduceOp, Reduced};
use crate::kernels::unary::{clip, unary, where_};
use crate::layout::Leaf;

fn unsupported(what: impl Into<String>, why: impl Into<String>) -> Error {
    Error::new(
        Code::Unsupported,
        what,
        why,
        "the compiled plan does not apply to this input; the Python body runs instead",
    )
}

fn get(regs: &[Option<Value>], r: Reg) -> Result<&Value> {
    regs.get(r).and_then(Option::as_ref).ok_or_else(|| {
        Error::new(
            Code::Compile,
            format!("register r{r} is read before it is written"),
            "malformed plan",
            "rebuild the plan with gr.compile",
        )
    })
}

fn array<'a>(v: &'a Value, what: &str) -> Result<&'a Array> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(unsupported(
            format!("{what} needs an array"),
            format!("got {}", other.kind()),
        )),
    }
}

fn operand<'a>(regs: &'a [Option<Value>], a: &'a Arg) -> Result<Operand<'a>> {
    Ok(match a {
        Arg::Scalar(s) => Operand::Scalar(s),
        Arg::Reg(r) => match get(regs, *r)? {
            Value::Array(x) => Operand::Array(x),
            // A reduction over nothing gives Python's None, which arithmetic rejects with a
            // TypeError: the Python body decides.
            Value::Scalar(Scalar::Null) => {
                return Err(unsupported(
                    "None (a reduction over no values) as an elementwise operand",
                    "Python raises a TypeError for None in arithmetic",
                ))
            }
            Value::Scalar(s) => Operand::Scalar(s),
            other => {
                return Err(unsupported(
                    "an elementwise operand must be an array",
                    format!("got {}", other.kind()),
                ))
            }
        },
    })
}

fn from_reduced(r: Reduced) -> Value {
    match r {
        Reduced::Scalar(s) => Value::Scalar(s),
        Reduced::Array(a) => Value::Array(a),
    }
}

/// Run one IR op eagerly with the kernels.
fn run_op(op: &Op, regs: &mut [Option<Value>], frames: &mut [Frame]) -> Result<Value> {
    Ok(match op {
        Op::Binary { kind, lhs, rhs } => {
            let (a, b) = (operand(regs, lhs)?, operand(regs, rhs)?);
            if let (Operand::Scalar(x), Operand::Scalar(y)) = (a, b) {
                return Ok(Value::Scalar(super::scalar::binary(*kind, x, y)?));
            }
            Value::Array(binary(*kind, a, b)?)
        }
        Op::Unary { kind, src } => match get(regs, *src)? {
            Value::Scalar(s) => Value::Scalar(super::scalar::unary(*kind, s)?),
            v => Value::Array(unary(*kind, array(v, "a unary function")?)?),
        },
        Op::Reduce { kind, src, dim } => match get(regs, *src)? {
            Value::Array(a) => from_reduced(reduce(a, *kind, *dim)?),
            other => {
                return Err(unsupported(
                    "a reduction needs an array",
                    format!("got {}", other.kind()),
                ))
            }
        },
        Op::Where { cond, lhs, rhs } => {
            if let Value::Scalar(c) = get(regs, *cond)? {
                return super::scalar::where_scalar(c, operand(regs, lhs)?, operand(regs, rhs)?);
            }
            let c = array(get(regs, *cond)?, "where's condition")?;
            Value::Array(where_(
                Operand::Array(c),
                operand(regs, lhs)?,
                operand(regs, rhs)?,
            )?)
        }
        Op::Clip { src, lo, hi } if matches!(get(regs, *src)?, Value::Scalar(_)) => {
            let Value::Scalar(s) = get(regs, *src)? else {
                unreachable!()
            };
            Value::Scalar(super::scalar::clip(s, lo.as_ref(), hi.as_ref())?)
        }
        Op::Clip { src, lo, hi } => Value::Array(clip(
            array(get(regs, *src)?, "clip")?,
            lo.as_ref(),
            hi.as_ref(),
        )?),
        Op::Neighbors {
            query,
            data,
            k,
            radius,
            dim,
            keep_loops,
            same,
        } => {
            let q = array(get(regs, *query)?, "neighbors")?;
            let d = array(get(regs, *data)?, "neighbors")?;
            Value::Array(super::value::neighbors_pairs(
                q,
                d,
                *k,
                *radius,
                *dim,
                *keep_loops,
                *same || query == data,
            )?)
        }
        Op::NeighborsCheck {
            query,
            data,
            k,
            radius,
            dim,
            keep_loops,
            same,
        } => super::dce::neighbors_check(
            array(get(regs, *query)?, "neighbors")?,
            array(get(regs, *data)?, "neighbors")?,
            *k,
            *radius,
            *dim,
            *keep_loops,
            *same || query == data,
        )?,
        Op::Column { src, path } => super::value::column(frames, get(regs, *src)?, path)?,
        Op::SetColumn {
            frame,
            path,
            name,
            value,
        } => {
            let target = get(regs, *frame)?.clone();
            super::value::set_column(frames, &target, path, name, get(regs, *value)?)?
        }
    })
}

// ------------------------------------------------------------------------- fused chains

/// The leaf mapped by a compiled chain, or `None` when the chain does not compile for its
/// dtype (the caller then runs the eager kernels).
fn fused_leaf(chain: &[MapOp], leaf: &Leaf) -> Option<Leaf> {
    let values = match &leaf.values {
        Values::F64(b) => Values::F64(Buf::from_vec(
            Program::<f64>::compile(chain)?.map_vec(b.as_slice()),
        )),
        Values::F32(b) => Values::F32(Buf::from_vec(
            Program::<f32>::compile(chain)?.map_vec(b.as_slice()),
        )),
        _ => return None,
    };
    Some(Leaf::new(values, leaf.validity.clone()))
}

/// Run a chain: one fused pass over the leaves of `a`'s view (float leaves), else op by op
/// with the eager kernels (the first op allocates, later ones rewrite in place when they can).
pub(crate) fn run_chain(chain: &[MapOp], a: &Array) -> Result<Array> {
    if chain.is_empty() {
        return Ok(a.clone());
    }
    // Only the rows of this view: a batch sliced from a big array maps its own values.
    let view = a.layout.compact();
    let mut all_fused = true;
    let fused = view.map_leaves(&mut |leaf| {
        Ok::<_, Error>(fused_leaf(chain, leaf).unwrap_or_else(|| {
            all_fused = false;
            leaf.clone()
        }))
    })?;
    if all_fused {
        return Ok(Array::new(fused));
    }
    let mut cur = Array::new(view);
    for (i, m) in chain.iter().enumerate() {
        cur = match m {
            MapOp::Binary {
                op,
                scalar,
                scalar_left,
            } if i > 0 => binary_scalar_owned(*op, cur, scalar, *scalar_left)?,
            MapOp::Binary {
                op,
                scalar,
                scalar_left: false,
            } => binary(*op, Operand::Array(&cur), Operand::Scalar(scalar))?,
            MapOp::Binary {
                op,
                scalar,
                scalar_left: true,
            } => binary(*op, Operand::Scalar(scalar), Operand::Array(&cur))?,
            MapOp::Unary(u) => unary(*u, &cur)?,
            MapOp::Clip(lo, hi) => clip(&cur, lo.as_ref(), hi.as_ref())?,
        };
    }
    Ok(cur)
}

fn run_fused_reduce(chain: &[MapOp], op: ReduceOp, dim: Option<isize>, v: &Value) -> Result<Value> {
    match v {
        Value::Array(a) => {
            if chain.is_empty() {
                return Ok(from_reduced(reduce(a, op, dim)?));
            }
            if let Some(r) = super::reduce_fused::try_fused(chain, op, dim, a)? {
                return Ok(from_reduced(r));
            }
            let mapped = run_chain(chain, a)?;
            Ok(from_reduced(reduce(&mapped, op, dim)?))
        }
        other => Err(unsupported(
            "a reduction needs an array",
            format!("got {}", other.kind()),
        )),
    }
}

/// Execute steps over an input value; `frames` is the dataframe table (entry 0 = the input
/// frame when the input is a dataframe). Returns the output and the (possibly updated) table.
/// A plan's registers while it runs (inline for plans of up to 16 ops).
type Regs = smallvec::SmallVec<[Option<Value>; 16]>;

pub(crate) fn execute(
    ir: &PlanIr,
    steps: &[Step],
    input: Value,
    mut frames: Vec<Frame>,
) -> Result<(Value, Vec<Frame>)> {
    let mut regs: Regs = smallvec::smallvec![None; ir.ops.len() + 1];
    regs[0] = Some(input);
    for step in steps {
        match step {
            Step::Op { index } => {
                let v = run_op(&ir.ops[*index], &mut regs, &mut frames)?;
                regs[index + 1] = Some(v);
            }
            Step::FusedMap { src, chain, dst } => {
                if let Value::Scalar(s) = get(&regs, *src)? {
                    regs[*dst] = Some(Value::Scalar(super::scalar::run_chain(chain, s)?));
                    continue;
                }
                let a = array(get(&regs, *src)?, "an elementwise op")?;
                let out = run_chain(chain, a)?;
                regs[*dst] = Some(Value::Array(out));
            }
            Step::FusedReduce {
                src,
                chain,
                reduce: op,
                dim,
                dst,
            } => {
                let out = run_fused_reduce(chain, *op, *dim, get(&regs, *src)?)?;
                regs[*dst] = Some(out);
            }
        }
    }
    let out = match ir.output {
        None => Value::None,
        Some(r) => get(&regs, r)?.clone(),
    };
    Ok((out, frames))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::Scalar;
    use crate::kernels::elementwise::BinaryOp;
    use crate::kernels::unary::UnaryOp;
    use crate::layout::{Item, Layout};
    use crate::plan::Plan;

    fn plan(json: &str) -> Plan {
        Plan::from_json(json).unwrap()
    }

    fn run(p: &Plan, x: &Array) -> Value {
        p.run(Value::Array(x.clone())).unwrap()
    }

    fn arr(v: Value) -> Array {
        match v {
            Value::Array(a) => a,
            other => panic!("expected an array, got {}", other.kind()),
        }
    }

    const AFFINE: &str = r#"{"ops": [
        {"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 2.0}},
        {"op": "binary", "kind": "add", "lhs": {"reg": 1}, "rhs": {"scalar": 1.0}}], "output": 2}"#;
    const GENERAL: &str = r#"{"ops": [
        {"op": "unary", "kind": "abs", "src": 0},
        {"op": "unary", "kind": "sqrt", "src": 1},
        {"op": "binary", "kind": "sub", "lhs": {"scalar": 1.5}, "rhs": {"reg": 2}}], "output": 3}"#;

    fn proteins(n: usize) -> Array {
        let rows: Vec<Vec<Vec<f64>>> = (0..n)
            .map(|p| {
                (0..(p * 7 % 40 + 1))
                    .map(|r| {
                        vec![
                            p as f64 * 0.37 - 3.0,
                            r as f64 * 1.1,
                            (p * r) as f64 * -0.01,
                        ]
                    })
                    .collect()
            })
            .collect();
        Array::from_item(&rows.into(), None).unwrap()
    }

    #[test]
    fn a_chain_on_a_slice_maps_only_the_slice() {
        let x = proteins(200);
        let s = x.slice(50, 3);
        let n = s.size();
        for p in [plan(AFFINE), plan(GENERAL)] {
            let r = arr(run(&p, &s));
            let Layout::List(l) = &r.layout else { panic!() };
            assert_eq!(l.offsets[0], 0);
            assert_eq!(
                r.layout.leaves()[0].len(),
                n,
                "the leaf holds the slice only"
            );
        }
        // float32 too, and the eager fallback (an int batch) as well
        let s32 = s.astype(crate::dtype::DType::Float32).unwrap();
        assert_eq!(arr(run(&plan(AFFINE), &s32)).layout.leaves()[0].len(), n);
        let si = x.astype(crate::dtype::DType::Int64).unwrap().slice(50, 3);
        let r = arr(run(&plan(AFFINE), &si));
        assert_eq!(r.layout.leaves()[0].len(), n);
    }

    fn eager_chain(chain: &[MapOp], x: &Array) -> Array {
        let mut cur = x.clone();
        for m in chain {
            cur = match m {
                MapOp::Binary {
                    op,
                    scalar,
                    scalar_left: false,
                } => binary(*op, Operand::Array(&cur), Operand::Scalar(scalar)).unwrap(),
                MapOp::Binary { op, scalar, .. } => {
                    binary(*op, Operand::Scalar(scalar), Operand::Array(&cur)).unwrap()
                }
                MapOp::Unary(u) => unary(*u, &cur).unwrap(),
                MapOp::Clip(lo, hi) => clip(&cur, lo.as_ref(), hi.as_ref()).unwrap(),
            };
        }
        cur
    }

    #[test]
    fn fused_reductions_are_bit_identical_to_map_then_reduce() {
        let bin = |op, s: f64, left| MapOp::Binary {
            op,
            scalar: Scalar::Float(s),
            scalar_left: left,
        };
        let chains = vec![
            vec![
                bin(BinaryOp::Mul, 2.0, false),
                bin(BinaryOp::Add, 1.0, false),
            ],
            vec![bin(BinaryOp::Sub, 0.25, true)],
            vec![
                MapOp::Unary(UnaryOp::Abs),
                MapOp::Unary(UnaryOp::Sqrt),
                bin(BinaryOp::Mul, 3.0, false),
            ],
            vec![MapOp::Clip(
                Some(Scalar::Float(-1.0)),
                Some(Scalar::Float(2.0)),
            )],
        ];
        // big enough for the parallel paths, with regular and irregular groups, a slice,
        // float32 leaves, nulls, and a union
        let x = proteins(3000);
        let inputs = vec![
            x.clone(),
            x.slice(100, 2000),
            x.astype(crate::dtype::DType::Float32).unwrap(),
            Array::from_item(
                &Item::list(vec![
                    vec![1.5, -2.0].into(),
                    Item::Null,
                    Item::list(vec![3.0.into(), Item::Null, (-4.0).into()]),
                ]),
                None,
            )
            .unwrap(),
            Array::from_item(
                &Item::list(vec![2.0.into(), vec![vec![1.0, -3.0], vec![0.5]].into()]),
                None,
            )
            .unwrap(),
        ];
        for chain in &chains {
            for a in &inputs {
                let mapped = eager_chain(chain, a);
                assert_eq!(run_chain(chain, a).unwrap().to_item(), mapped.to_item());
                for op in ReduceOp::ALL {
                    for dim in [None, Some(0), Some(1), Some(-1)] {
                        let want = reduce(&mapped, op, dim).map(from_reduced);
                        let got = run_fused_reduce(chain, op, dim, &Value::Array(a.clone()));
                        match (got, want) {
                            (Ok(Value::Array(g)), Ok(Value::Array(w))) => {
                                assert_eq!(g.to_item(), w.to_item(), "{chain:?} {op:?} {dim:?}");
                            }
                            (Ok(Value::Scalar(g)), Ok(Value::Scalar(w))) => {
                                assert_eq!(format!("{g:?}"), format!("{w:?}"), "{chain:?} {op:?}");
                            }
                            (Err(g), Err(w)) => assert_eq!(g.code(), w.code()),
                            (g, w) => panic!("{chain:?} {op:?} {dim:?}: {g:?} vs {w:?}"),
                        }
                    }
                }
            }
        }
    }
}
