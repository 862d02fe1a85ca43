//! A protein-like dataframe in Rust: build it from flat buffers, peel a level, add a
//! per-residue column by dot assignment, select rows, compute on every numeric column, print
//! the bounded table, and round-trip the pickle state.
//!
//! Run with `cargo run -p grumpy-core --example frame`.
#![allow(clippy::print_stdout)]

use grumpy_core::buffer::{Buf, Values};
use grumpy_core::frame::FrameOperand;
use grumpy_core::kernels::elementwise::BinaryOp;
use grumpy_core::kernels::operand::Arg;
use grumpy_core::kernels::reduce::ReduceOp;
use grumpy_core::{Array, Frame, Result, Scalar};

fn main() -> Result<()> {
    // 2 molecules with 2 and 1 residues; residues hold 2, 1 and 3 atoms; each atom has xyz.
    let residue_offsets = Buf::from_vec(vec![0i64, 2, 3]);
    let atom_offsets = Buf::from_vec(vec![0i64, 2, 3, 6]);
    let xyz_offsets = Buf::from_vec((0..=6).map(|i| i * 3).collect::<Vec<i64>>());
    let coords = Array::from_offsets(
        Values::from((0..18).map(f64::from).collect::<Vec<_>>()),
        None,
        vec![residue_offsets.clone(), atom_offsets.clone(), xyz_offsets],
    )?;
    let resname = Array::from_offsets(
        Values::from_strs(&["ALA", "GLY", "SER"]),
        None,
        vec![residue_offsets],
    )?;
    let name = Array::from_offsets(Values::from_strs(&["1abc", "2xyz"]), None, vec![])?;

    let mut df = Frame::new(
        &["molecule", "residue", "atom"],
        vec![
            ("name".into(), name),
            ("resname".into(), resname),
            ("coords".into(), coords),
        ],
        &[],
    )?;
    println!(
        "{} molecules, {} residues, {} atoms",
        df.len(),
        df.count(1)?,
        df.count(2)?
    );

    // df.residue.coords: residues outermost, zero copy.
    let residues = df.at(df.level("residue")?)?;
    let rc = residues.get("coords")?;
    println!(
        "residue view: {} rows, coords ndim {}",
        residues.len(),
        rc.ndim()
    );

    // df.residue.n_atoms = <one value per residue>: re-nested under the molecules.
    let n_atoms: Vec<i64> = atom_offsets.windows(2).map(|w| w[1] - w[0]).collect();
    df.assign(1, "n_atoms", Array::from_vec(n_atoms))?;
    println!("n_atoms by molecule: {:?}", df.get("n_atoms")?.to_item());

    // Row selection keeps every column aligned: molecule 1's residues.
    let second = df.row(1)?.at(1)?;
    println!(
        "molecule 1 residues: {:?}, atoms per residue {:?}",
        second.get("resname")?.to_item(),
        second.get("n_atoms")?.to_item()
    );

    // df.residue.weight = 1.0: a scalar is broadcast to every residue.
    df.fill(1, "weight", &Scalar::Float(1.0), None)?;

    // df * 0.5 on every numeric column (names are strings: carried unchanged).
    let half = Frame::binary(
        BinaryOp::Mul,
        FrameOperand::Frame(&df),
        FrameOperand::Arg(&Arg::Weak(Scalar::Float(0.5))),
    )?;
    println!("{half}");

    // df.residue.sum(): {column: scalar} over the numeric columns.
    for (name, total) in df.at(1)?.reduce(ReduceOp::Sum, None)? {
        println!("sum of {name}: {total:?}");
    }

    // What pickle carries: bytes that rebuild the same frame (shared offsets included).
    let state = df.to_state();
    assert_eq!(Frame::from_state(&state)?, df);
    println!("pickle state: {} bytes", state.len());
    Ok(())
}
