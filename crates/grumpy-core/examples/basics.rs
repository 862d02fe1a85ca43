//! Build ragged arrays from Rust, slice them without copying, and cast them.
//!
//! Run: `cargo run -p grumpy-core --example basics`
#![allow(clippy::print_stdout)] // an example prints its results

use grumpy_core::buffer::{Buf, Values};
use grumpy_core::layout::{Item, Layout};
use grumpy_core::{Array, DType};

fn main() -> grumpy_core::Result<()> {
    // proteins → residues → xyz, from flat buffers (zero copy)
    let coords: Vec<f64> = (0..15).map(f64::from).collect();
    let proteins = Buf::from_vec(vec![0i64, 2, 5]);
    let residues = Buf::from_vec((0..=5).map(|i| i * 3).collect::<Vec<i64>>());
    let x = Array::from_offsets(Values::from(coords), None, vec![proteins, residues])?;
    println!(
        "len={} ndim={} size={} layout={}",
        x.len(),
        x.ndim(),
        x.size(),
        x.layout_kind()
    );

    // a zero-copy slice of rows
    let second = x.slice(1, 1);
    println!("protein 1 = {}", second.to_item());

    // nested values with nulls and a union row
    let u = Array::from_item(
        &Item::list(vec![
            1.0.into(),
            Item::list(vec![2.0.into(), Item::Null]),
            4.0.into(),
        ]),
        None,
    )?;
    println!("union layout = {}, rows = {}", u.layout_kind(), u.to_item());

    // cast the leaves; offsets stay shared
    let ints = x.astype(DType::Int32)?;
    if let (Layout::List(a), Layout::List(b)) = (&x.layout, &ints.layout) {
        println!(
            "offsets shared after astype: {}",
            a.offsets.shares_storage(&b.offsets)
        );
    }
    Ok(())
}
