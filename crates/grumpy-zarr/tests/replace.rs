//! Overwriting a store replaces it in one step: a reader in another thread (or process) sees
//! the old store or the new one at every instant, never a missing path.

use grumpy_core::layout::Item;
use grumpy_core::Array;
use grumpy_zarr::{open, save, SaveOptions};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

#[test]
#[cfg(target_os = "linux")]
fn an_overwritten_store_is_never_missing() {
    let dir = std::env::temp_dir().join(format!("grumpy-zarr-replace-{}", std::process::id()));
    let rows = |n: usize| {
        let items: Vec<Item> = (0..n)
            .map(|i| Item::list(vec![(i as f64).into()]))
            .collect();
        Array::from_item(&Item::list(items), None).unwrap()
    };
    let (small, big) = (rows(3), rows(5));
    save(&small, &dir, &SaveOptions::default()).unwrap();
    let stop = AtomicBool::new(false);
    let (checks, missing) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                checks.fetch_add(1, Ordering::Relaxed);
                match open(&dir) {
                    Ok(r) => assert!(r.len() == 3 || r.len() == 5, "{} rows", r.len()),
                    Err(_) if !dir.join("zarr.json").exists() => {
                        missing.fetch_add(1, Ordering::Relaxed);
                    }
                    // the old store's files were removed under a reader that had opened it
                    Err(_) => {}
                }
            }
        });
        for i in 0..400 {
            save(
                if i % 2 == 0 { &big } else { &small },
                &dir,
                &SaveOptions::default(),
            )
            .unwrap();
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(checks.load(Ordering::Relaxed) > 100);
    assert_eq!(
        missing.load(Ordering::Relaxed),
        0,
        "the path was missing mid-commit"
    );
    // nothing is left beside the store: no temporary or old copies
    let parent = dir.parent().unwrap();
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let leftovers: Vec<_> = std::fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}.grumpy-")))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(grumpy_zarr::load(&dir).unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
