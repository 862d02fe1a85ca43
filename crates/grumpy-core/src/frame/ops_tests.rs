//! Tests of frame ops, column edits (fill/remove), the table text and the pickle state. The
//! reference for ops is the kernel applied to each column on its own.

use super::*;
use crate::dtype::{DType, Scalar};
use crate::kernels::elementwise::{binary, BinaryOp, Operand};
use crate::kernels::operand::Arg;
use crate::kernels::reduce::{reduce, ReduceOp, Reduced};
use crate::kernels::unary::{unary, UnaryOp};
use crate::layout::Item;
use crate::Code;

fn arr(it: Item) -> Array {
    Array::from_item(&it, None).unwrap()
}

/// molecule → residue → atom with float, int, bool and string columns.
fn mixed() -> Frame {
    let x = arr(Item::list(vec![
        Item::list(vec![vec![1.0, 4.0].into(), vec![9.0].into()]),
        Item::list(vec![vec![16.0, 25.0, 36.0].into()]),
    ]));
    let seq = arr(Item::list(vec![vec![1i64, 2].into(), vec![3i64].into()]));
    let core = arr(Item::list(vec![
        vec![true, false].into(),
        vec![true].into(),
    ]));
    let name = arr(vec!["a", "b"].into());
    Frame::new(
        &["molecule", "residue", "atom"],
        vec![
            ("x".into(), x),
            ("seq".into(), seq),
            ("core".into(), core),
            ("name".into(), name),
        ],
        &[],
    )
    .unwrap()
}

#[test]
fn scalar_ops_apply_where_the_dtype_allows() {
    let df = mixed();
    let two = Scalar::Int(2);
    let r = Frame::binary(
        BinaryOp::Add,
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Weak(two.clone())),
    )
    .unwrap();
    for c in ["x", "seq", "core"] {
        let want = binary(
            BinaryOp::Add,
            Operand::Array(df.get(c).unwrap()),
            Operand::Scalar(&two),
        );
        assert_eq!(r.get(c).unwrap(), &want.unwrap(), "{c}");
    }
    assert_eq!(r.get("core").unwrap().dtype(), DType::Int64); // bool + int → int (NumPy)
    assert_eq!(r.get("name").unwrap(), df.get("name").unwrap());
    assert_eq!(r.names(), df.names());
    // Reflected: 10 - df.
    let ten = Scalar::Float(10.0);
    let r = Frame::binary(
        BinaryOp::Sub,
        FrameOperand::Arg(&Arg::Weak(ten.clone())),
        FrameOperand::Frame(&df),
    )
    .unwrap();
    assert_eq!(
        r.get("seq").unwrap().to_item(),
        Item::list(vec![vec![9.0, 8.0].into(), vec![7.0].into()])
    );
    // Offsets are still shared per level.
    let o = r.offsets(1).unwrap();
    for c in ["x", "seq", "core"] {
        assert!(r
            .get(c)
            .unwrap()
            .layout
            .as_list()
            .unwrap()
            .offsets
            .same_view(o));
    }
}

#[test]
fn unary_carries_bool_where_numpy_refuses() {
    let df = mixed();
    let neg = df.unary(UnaryOp::Neg).unwrap();
    assert_eq!(neg.get("core").unwrap(), df.get("core").unwrap());
    assert_eq!(
        neg.get("x").unwrap(),
        &unary(UnaryOp::Neg, df.get("x").unwrap()).unwrap()
    );
    let inv = df.unary(UnaryOp::Not).unwrap();
    assert_eq!(
        inv.get("core").unwrap().to_item(),
        Item::list(vec![vec![false, true].into(), vec![false].into()])
    );
    assert_eq!(inv.get("x").unwrap(), df.get("x").unwrap()); // ~ of floats: carried
    let sq = df.unary(UnaryOp::Sqrt).unwrap();
    assert_eq!(sq.get("core").unwrap().dtype(), DType::Float32); // NumPy: float16
                                                                 // Comparisons give bool columns; strings are carried.
    let one = Scalar::Int(1);
    let gt = Frame::binary(
        BinaryOp::Gt,
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Weak(one.clone())),
    )
    .unwrap();
    assert_eq!(gt.get("x").unwrap().dtype(), DType::Bool);
    assert_eq!(gt.get("name").unwrap().dtype(), DType::String);
}

#[test]
fn op_errors() {
    let df = mixed();
    let strings = df.select(&["name"]).unwrap();
    let e = strings.unary(UnaryOp::Sqrt).unwrap_err();
    assert_eq!(e.code(), Code::DType);
    assert!(e.summary().contains("no column"), "{e}");
    let zero = Scalar::Int(0);
    let e = Frame::binary(
        BinaryOp::FloorDiv,
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Weak(zero.clone())),
    )
    .unwrap_err();
    assert!(e.summary().contains("column \"seq\""), "{e}");
    let a = Array::from_vec(vec![1.0, 2.0, 3.0]);
    let e = Frame::binary(
        BinaryOp::Add,
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Array(a.clone())),
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::Broadcast);
    let e = Frame::binary(
        BinaryOp::Add,
        FrameOperand::Arg(&Arg::Array(a.clone())),
        FrameOperand::Arg(&Arg::Array(a.clone())),
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::Argument);
}

#[test]
fn frame_with_array_broadcasts_per_column() {
    let df = mixed().at(1).unwrap(); // residues: x is residue → atom, seq per residue
    let w = Array::from_vec(vec![10.0, 20.0, 30.0]);
    let r = Frame::binary(
        BinaryOp::Mul,
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Array(w.clone())),
    )
    .unwrap();
    assert_eq!(
        r.get("x").unwrap().to_item(),
        Item::list(vec![
            vec![10.0, 40.0].into(),
            vec![180.0].into(),
            vec![480.0, 750.0, 1080.0].into()
        ])
    );
    assert_eq!(
        r.get("seq").unwrap().to_item(),
        vec![10.0, 40.0, 90.0].into()
    );
    assert_eq!(r.len(), 3);
}

#[test]
fn frame_with_frame_pairs_by_name() {
    let df = mixed();
    let rev = df.select(&["name", "core", "seq", "x"]).unwrap();
    let r = Frame::binary(
        BinaryOp::Add,
        FrameOperand::Frame(&df),
        FrameOperand::Frame(&rev),
    )
    .unwrap();
    assert_eq!(r.names(), df.names());
    let want = binary(
        BinaryOp::Add,
        Operand::Array(df.get("x").unwrap()),
        Operand::Array(df.get("x").unwrap()),
    )
    .unwrap();
    assert_eq!(r.get("x").unwrap(), &want);
    assert_eq!(r.get("name").unwrap(), df.get("name").unwrap());
    let part = df.select(&["x"]).unwrap();
    let e = Frame::binary(
        BinaryOp::Add,
        FrameOperand::Frame(&df),
        FrameOperand::Frame(&part),
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert!(e.summary().contains("seq"), "{e}");
    let e = Frame::binary(
        BinaryOp::Add,
        FrameOperand::Frame(&df),
        FrameOperand::Frame(&df.at(1).unwrap()),
    )
    .unwrap_err();
    assert!(e.summary().contains("different schemas"), "{e}");
    // Same names at different levels.
    let a = Frame::new(
        &["m", "r"],
        vec![("v".into(), arr(vec![1.0, 2.0].into()))],
        &[],
    )
    .unwrap();
    let b = Frame::new(
        &["m", "r"],
        vec![(
            "v".into(),
            arr(Item::list(vec![vec![1.0].into(), vec![2.0].into()])),
        )],
        &[],
    )
    .unwrap();
    let e = Frame::binary(
        BinaryOp::Add,
        FrameOperand::Frame(&a),
        FrameOperand::Frame(&b),
    )
    .unwrap_err();
    assert!(e.summary().contains("level"), "{e}");
}

#[test]
fn reductions_follow_numeric_only() {
    let df = mixed();
    let sums = df.reduce(ReduceOp::Sum, None).unwrap();
    let names: Vec<&str> = sums.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["x", "seq", "core"]);
    for (n, r) in &sums {
        assert_eq!(r, &reduce(df.get(n).unwrap(), ReduceOp::Sum, None).unwrap());
    }
    let counts = df.reduce(ReduceOp::Count, None).unwrap();
    assert_eq!(counts.len(), 4);
    assert_eq!(counts[3], ("name".into(), Reduced::Scalar(Scalar::Int(2))));
    let ptp = df.reduce(ReduceOp::Ptp, None).unwrap();
    assert!(ptp.iter().all(|(n, _)| n != "core"));
    // dim=2 only exists in the atom-level column.
    let m = df.reduce(ReduceOp::Mean, Some(2)).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].1,
        reduce(df.get("x").unwrap(), ReduceOp::Mean, Some(2)).unwrap()
    );
    let m = df.reduce(ReduceOp::Max, Some(-1)).unwrap();
    assert_eq!(m.len(), 3);
    assert!(df.reduce(ReduceOp::Sum, Some(3)).unwrap().is_empty());
}

#[test]
fn where_pairs_frames_and_carries_strings() {
    let df = mixed();
    let five = Scalar::Float(5.0);
    let big = Frame::binary(
        BinaryOp::Gt,
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Weak(five.clone())),
    )
    .unwrap();
    let zero = Scalar::Int(0);
    let r = Frame::where_(
        FrameOperand::Frame(&big),
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Weak(zero.clone())),
    )
    .unwrap();
    assert_eq!(
        r.get("x").unwrap().to_item(),
        Item::list(vec![
            Item::list(vec![vec![0.0, 0.0].into(), vec![9.0].into()]),
            Item::list(vec![vec![16.0, 25.0, 36.0].into()]),
        ])
    );
    assert_eq!(r.get("name").unwrap(), df.get("name").unwrap());
    // A scalar condition with frame values, and an error for unpaired frames.
    let t = Scalar::Bool(true);
    let r = Frame::where_(
        FrameOperand::Arg(&Arg::Weak(t.clone())),
        FrameOperand::Arg(&Arg::Weak(zero.clone())),
        FrameOperand::Frame(&df),
    )
    .unwrap();
    assert_eq!(
        r.get("seq").unwrap().to_item(),
        Item::list(vec![vec![0i64, 0].into(), vec![0i64].into()])
    );
    let part = df.select(&["x"]).unwrap();
    let e = Frame::where_(
        FrameOperand::Frame(&part),
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Weak(zero.clone())),
    )
    .unwrap_err();
    assert_eq!(e.code(), Code::Schema);
}

#[test]
fn ufunc_names() {
    assert_eq!(
        FrameOp::from_ufunc("greater_equal"),
        Some(FrameOp::Binary(BinaryOp::Ge))
    );
    assert_eq!(
        FrameOp::from_ufunc("negative"),
        Some(FrameOp::Unary(UnaryOp::Neg))
    );
    assert_eq!(FrameOp::from_ufunc("matmul"), None);
}

#[test]
fn fill_and_remove() {
    let mut df = mixed();
    df.fill(1, "w", &Scalar::Float(0.5), None).unwrap();
    assert_eq!(
        df.get("w").unwrap().to_item(),
        Item::list(vec![vec![0.5, 0.5].into(), vec![0.5].into()])
    );
    df.fill(2, "tag", &Scalar::Str("C".into()), None).unwrap();
    assert_eq!(
        df.at(2).unwrap().get("tag").unwrap().to_item(),
        vec!["C"; 6].into()
    );
    df.fill(0, "k", &Scalar::Int(3), Some(DType::Int8)).unwrap();
    assert_eq!(df.get("k").unwrap().dtype(), DType::Int8);
    df.fill(1, "n", &Scalar::Null, Some(DType::Float64))
        .unwrap();
    let n = reduce(df.get("n").unwrap(), ReduceOp::Count, None).unwrap();
    assert_eq!(n, Reduced::Scalar(Scalar::Int(0)));
    assert_eq!(df.get("n").unwrap().size(), 3);
    assert_eq!(
        df.fill(1, "z", &Scalar::Null, None).unwrap_err().code(),
        Code::Argument
    );
    assert_eq!(
        df.fill(1, "residue", &Scalar::Int(1), None)
            .unwrap_err()
            .code(),
        Code::Schema
    );
    // Remove, through a view level.
    assert_eq!(df.remove(1, "name").unwrap_err().code(), Code::Schema);
    assert_eq!(df.remove(0, "residue").unwrap_err().code(), Code::Schema);
    assert_eq!(df.remove(0, "nope").unwrap_err().code(), Code::Schema);
    df.remove(1, "w").unwrap();
    assert!(df.column("w").is_none());
    for c in ["x", "tag"] {
        df.remove(2, c).unwrap();
    }
    assert!(df.count(2).is_err()); // nothing reaches the atoms any more
    assert_eq!(df.count(1).unwrap(), 3);
}

#[test]
fn columns_cannot_be_named_like_levels() {
    let e = Frame::new(&["m", "r"], vec![("r".into(), arr(vec![1i64].into()))], &[]).unwrap_err();
    assert_eq!(e.code(), Code::Schema);
    assert!(e.summary().contains("name of a level"), "{e}");
    let mut df = mixed();
    let e = df.assign(0, "atom", arr(vec![1i64, 2].into())).unwrap_err();
    assert_eq!(e.code(), Code::Schema);
}

fn long_frame(n_atoms: usize) -> Frame {
    let flat: Vec<f64> = (0..n_atoms).map(|i| i as f64).collect();
    let x = Array::from_offsets(
        crate::buffer::Values::from(flat),
        None,
        vec![Buf::from_vec(vec![0, n_atoms as i64])],
    )
    .unwrap();
    Frame::new(&["molecule", "atom"], vec![("x".into(), x)], &[]).unwrap()
}

#[test]
fn table_is_bounded() {
    let style = TableStyle::default();
    // A huge row prints only what is shown.
    let big = long_frame(2_000_000);
    let t0 = std::time::Instant::now();
    let text = big.to_string();
    assert!(t0.elapsed().as_millis() < 200, "{:?}", t0.elapsed());
    let row = text.lines().nth(4).unwrap();
    assert_eq!(row, "0  [0.0, 1.0, 2.0, 3.0, 4.0, 5...");
    // Many rows: first and last five around "...".
    let names: Vec<String> = (0..50).map(|i| format!("n{i}")).collect();
    let many = Frame::new(
        &["row"],
        vec![(
            "s".into(),
            arr(names.iter().map(String::as_str).collect::<Vec<_>>().into()),
        )],
        &[],
    )
    .unwrap();
    let lines: Vec<String> = many.to_string().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4 + 11);
    assert_eq!(lines[4], "0    'n0'");
    assert_eq!(lines[9], "...  ...");
    assert_eq!(lines[14], "49   'n49'");
    // Wide frames drop middle columns.
    let cols: Vec<(String, Array)> = (0..30)
        .map(|i| {
            (
                format!("column_{i:02}"),
                arr(vec![i as f64 * 1000.5, 1.0].into()),
            )
        })
        .collect();
    let wide = Frame::new(&["row"], cols, &[]).unwrap();
    let text = wide.to_string();
    for l in text.lines().skip(1) {
        assert!(l.chars().count() <= style.max_width, "{l}");
    }
    let head = text.lines().nth(1).unwrap();
    assert!(head.contains("column_00") && head.contains("column_29") && head.contains("..."));
    assert!(!head.contains("column_15"));
    assert!(text.starts_with("gr.DataFrame: 2 row × 30 columns"));
}

#[test]
fn table_cells() {
    let tricky = arr(Item::list(vec![
        Item::list(vec!["it's".into(), Item::Null]),
        Item::Null,
        Item::list(vec!["é".repeat(100).as_str().into()]),
    ]));
    let u = arr(Item::list(vec![
        1.0.into(),
        vec![2.0, 3.0].into(),
        Item::Null,
    ]));
    let df = Frame::new(&["m"], vec![("s".into(), tricky), ("u".into(), u)], &[]).unwrap();
    let lines: Vec<String> = df.to_string().lines().map(str::to_owned).collect();
    assert!(lines[4].starts_with("0  [\"it's\", None]"), "{}", lines[4]);
    assert!(lines[5].starts_with("1  None"), "{}", lines[5]);
    let cell = preview_row(&df.get("s").unwrap().layout, 2, 30);
    assert_eq!(cell.chars().count(), 30);
    assert!(cell.starts_with("['éé") && cell.ends_with("..."));
    assert_eq!(
        preview_row(&df.get("u").unwrap().layout, 1, 30),
        "[2.0, 3.0]"
    );
}

#[test]
fn state_round_trips() {
    let mut df = mixed();
    df.fill(1, "n", &Scalar::Null, Some(DType::Int16)).unwrap();
    let u = arr(Item::list(vec![1.0.into(), vec![2.0, 3.0].into()]));
    df.assign(0, "u", u).unwrap();
    for d in [DType::UInt8, DType::UInt64, DType::Float32, DType::Int32] {
        let a = df.get("seq").unwrap().astype(d).unwrap();
        df.assign(1, &format!("seq_{d}"), a).unwrap();
    }
    let back = Frame::from_state(&df.to_state()).unwrap();
    assert_eq!(back, df);
    // Views and slices write only what they cover.
    for part in [
        df.at(1).unwrap(),
        df.slice(1, 1).unwrap(),
        df.at(2).unwrap(),
    ] {
        let state = part.to_state();
        let back = Frame::from_state(&state).unwrap();
        assert_eq!(back.names(), part.names());
        for c in part.columns() {
            assert_eq!(back.get(&c.name).unwrap().to_item(), c.array.to_item());
        }
        assert!(state.len() < df.to_state().len());
    }
    // A frame without columns keeps its rows.
    let mut empty = mixed();
    for c in ["x", "seq", "core", "name"] {
        empty.remove(0, c).unwrap();
    }
    assert_eq!(Frame::from_state(&empty.to_state()).unwrap().len(), 2);
}

#[test]
fn corrupt_states_are_errors() {
    let state = mixed().to_state();
    for n in 0..state.len() {
        let e = Frame::from_state(&state[..n]).unwrap_err();
        assert_eq!(e.code(), Code::Argument);
    }
    let mut extra = state.clone();
    extra.push(0);
    assert!(Frame::from_state(&extra).is_err());
    // Flipping any byte never panics.
    for i in 0..state.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut s = state.clone();
            s[i] ^= x;
            let _ = Frame::from_state(&s);
        }
    }
}
