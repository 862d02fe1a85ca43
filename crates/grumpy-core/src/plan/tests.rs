//! Plan-level tests: JSON round trips, op-indexed errors, validation, dead-code elimination,
//! error order and the `explain()` listing.

use super::*;
use crate::array::Array;
use crate::dtype::Scalar;
use crate::layout::Item;

fn arr(item: Item) -> Value {
    Value::Array(Array::from_item(&item, None).unwrap())
}

fn floats() -> Value {
    arr(vec![vec![1.0, 2.0], vec![3.0]].into())
}

fn plan(ops: &str, output: &str) -> Plan {
    Plan::from_json(&format!(r#"{{"ops": [{ops}], "output": {output}}}"#)).unwrap()
}

fn item(v: Value) -> Item {
    match v {
        Value::Array(a) => a.to_item(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn json_round_trips_non_finite_literals() {
    let p = plan(
        r#"{"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": "inf"}},
           {"op": "clip", "src": 1, "lo": "-inf", "hi": "nan"}"#,
        "2",
    );
    let again = Plan::from_json(&p.to_json()).unwrap();
    assert_eq!(again.ops()[0], p.ops()[0]);
    let Op::Clip { lo, .. } = &again.ops()[1] else {
        panic!()
    };
    assert_eq!(lo, &Some(Scalar::Float(f64::NEG_INFINITY)));
    assert!(p.to_json().contains(r#""nan""#));
}

#[test]
fn malformed_ops_are_reported_with_their_index() {
    let e = Plan::from_json(
        r#"{"ops": [{"op": "unary", "kind": "sqrt", "src": 0},
                    {"op": "unary", "kind": "isnan", "src": 1}], "output": 2}"#,
    )
    .unwrap_err();
    assert!(e.summary().starts_with("op 1:"), "{}", e.summary());
    let e = Plan::from_json(r#"{"ops": [{"op": "unary", "kind": "sqrt", "src": 3}]}"#).unwrap_err();
    assert!(e.summary().starts_with("op 0:"));
}

#[test]
fn validation_names_the_op_and_the_reason() {
    let p = plan(
        r#"{"op": "reduce", "kind": "sum", "src": 0, "dim": null},
           {"op": "reduce", "kind": "sum", "src": 1, "dim": null}"#,
        "2",
    );
    let e = p.run(floats()).unwrap_err();
    assert_eq!(e.code(), Code::Unsupported);
    assert!(e.summary().contains("r2 = r1.sum()"), "{}", e.summary());
    assert!(e.cause().contains("scalar"));
}

#[test]
fn scalar_registers_run_python_arithmetic() {
    let p = plan(
        r#"{"op": "reduce", "kind": "sum", "src": 0, "dim": null},
           {"op": "binary", "kind": "rem", "lhs": {"reg": 1}, "rhs": {"scalar": -4.0}},
           {"op": "unary", "kind": "sqrt", "src": 2},
           {"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"reg": 3}}"#,
        "4",
    );
    // sum = 6, 6 % -4 = -2 (Python), sqrt(-2) = nan
    let out = item(p.run(floats()).unwrap());
    let Item::List(rows) = out else { panic!() };
    assert_eq!(rows.len(), 2);
    let p = plan(
        r#"{"op": "reduce", "kind": "sum", "src": 0, "dim": null},
           {"op": "binary", "kind": "div", "lhs": {"reg": 1}, "rhs": {"scalar": 0.0}}"#,
        "2",
    );
    assert_eq!(p.run(floats()).unwrap_err().code(), Code::Unsupported);
}

#[test]
fn unused_ops_are_skipped_only_when_they_cannot_raise() {
    let p = plan(
        r#"{"op": "binary", "kind": "floor_div", "lhs": {"reg": 0}, "rhs": {"scalar": 0}},
           {"op": "binary", "kind": "add", "lhs": {"reg": 0}, "rhs": {"scalar": 1}}"#,
        "2",
    );
    assert!(p.explain().contains("unused"));
    // floats: x // 0 gives inf/nan, cannot raise: skipped
    assert_eq!(
        item(p.run(floats()).unwrap()),
        vec![vec![2.0, 3.0], vec![4.0]].into()
    );
    // ints: x // 0 raises, as it does in the Python body
    let ints = arr(vec![vec![1i64, 2], vec![3]].into());
    let e = p.run(ints).unwrap_err();
    assert_ne!(e.code(), Code::Unsupported);
}

#[test]
fn errors_come_in_the_python_body_order() {
    // r1 = x // 0 (raises on ints) is fused into r3's chain; r2 (bad dim) would run first
    let p = plan(
        r#"{"op": "binary", "kind": "floor_div", "lhs": {"reg": 0}, "rhs": {"scalar": 0}},
           {"op": "reduce", "kind": "sum", "src": 0, "dim": 7},
           {"op": "binary", "kind": "add", "lhs": {"reg": 1}, "rhs": {"scalar": 1}}"#,
        "3",
    );
    let ints = arr(vec![vec![1i64, 2], vec![3]].into());
    let Value::Array(a) = &ints else { panic!() };
    let first = crate::kernels::elementwise::binary(
        crate::kernels::elementwise::BinaryOp::FloorDiv,
        crate::kernels::elementwise::Operand::Array(a),
        crate::kernels::elementwise::Operand::Scalar(&Scalar::Int(0)),
    )
    .unwrap_err();
    let e = p.run(ints).unwrap_err();
    assert_eq!(e.code(), first.code());
    assert_eq!(e.summary(), first.summary());
}

#[test]
fn explain_lists_ops_steps_and_fusion() {
    let p = plan(
        r#"{"op": "binary", "kind": "mul", "lhs": {"reg": 0}, "rhs": {"scalar": 0.01}},
           {"op": "binary", "kind": "add", "lhs": {"reg": 1}, "rhs": {"scalar": 1.0}},
           {"op": "neighbors", "query": 2, "data": 2, "k": 16, "dim": 1, "loop": false},
           {"op": "unary", "kind": "neg", "src": 2},
           {"op": "reduce", "kind": "mean", "src": 4, "dim": 1}"#,
        "5",
    );
    let text = p.explain();
    for line in [
        "  r1 = r0 * 0.01\n",
        "  r3 = neighbors(r2, r2, k=16, dim=1, loop=False)\n",
        "  r4 = -r2\n",
        "  1. r2 = (r0 * 0.01) + 1.0\n",
        "  2. r3 = check neighbors(r2, r2, k=16, dim=1, loop=False)",
        "  3. r5 = (-r2).mean(dim=1)\n",
        "  r2: 2 elementwise ops in one pass over r0\n",
        "output: r5\n",
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }
}
