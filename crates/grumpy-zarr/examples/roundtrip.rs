//! Save a ragged array, read a row range lazily, append, and load it back.
//! Run: `cargo run -p grumpy-zarr --example roundtrip`.
#![allow(clippy::print_stdout)] // an example prints its results

use grumpy_core::Array;
use grumpy_zarr::{append, load, open, save, SaveOptions};

fn main() -> grumpy_core::Result<()> {
    let dir = std::env::temp_dir().join("grumpy-example-roundtrip.zarr");
    let a = Array::from_item(&vec![vec![1.0, 2.0, 3.0], vec![], vec![4.0]].into(), None)?;
    save(
        &a,
        &dir,
        &SaveOptions {
            chunk_size: Some(2),
            ..Default::default()
        },
    )?;
    let reader = open(&dir)?;
    let rows = reader.read_rows(1, 3)?;
    assert_eq!(rows.to_item(), a.slice(1, 2).to_item());
    append(&a, &dir)?;
    let all = load(&dir)?;
    assert_eq!(all.len(), 6);
    eprintln!("stored {} rows at {}", all.len(), dir.display());
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
