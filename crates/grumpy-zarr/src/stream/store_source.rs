//! A grumpy store as a [`BatchSource`]: batches read only the chunks their rows need,
//! through the reader's byte-bounded LRU cache of decoded chunks
//! ([`crate::read::DEFAULT_CACHE_BYTES`], 64 MiB, per open store; `open_with_cache` sets
//! another bound), so batches sharing a chunk decode it once and memory stays bounded. An
//! array store yields [`Data::Array`] batches, a dataframe store [`Data::Frame`] batches
//! (`read_data_rows`, the reader `gr.open` uses: one read of the shared offsets per level,
//! every column built on them). A frame store's levels are its schema.
//!
//! ```
//! use grumpy_core::{Array, Frame};
//! use grumpy_zarr::stream::BatchSource;
//! let dir = std::env::temp_dir().join(format!("grumpy-doc-ss-{}", std::process::id()));
//! let x = Array::from_item(&vec![vec![1i64], vec![2, 3], vec![]].into(), None).unwrap();
//! let df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
//! grumpy_zarr::save_frame(&df, &dir, &Default::default()).unwrap();
//! let r = grumpy_zarr::open(&dir).unwrap();
//! assert_eq!(BatchSource::level_names(&r), vec!["mol", "res"]);
//! assert_eq!(BatchSource::entity_counts(&r, 1).unwrap(), vec![1, 2, 0]);
//! let b = BatchSource::read_rows(&r, 1, 3).unwrap().into_frame().unwrap();
//! let x = |f: &Frame| f.get("x").unwrap().to_item();
//! assert_eq!(x(&b), x(&df.slice(1, 2).unwrap()));
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use super::source::{BatchSource, Rows};
use crate::group::Data;
use crate::read::StoreReader;
use grumpy_core::Result;

/// Rows read per step when counting entities for `batch_on` (bounds the memory of the scan).
const COUNT_BLOCK_ROWS: usize = 4096;

impl BatchSource for StoreReader {
    type Batch = Data;

    fn len(&self) -> usize {
        StoreReader::len(self)
    }

    fn nesting(&self) -> usize {
        if self.is_frame() {
            return self.meta().schema.len().saturating_sub(1);
        }
        // from the form: reading even an empty range decodes an offsets chunk per level
        self.form().ndim().saturating_sub(1)
    }

    fn level_names(&self) -> Vec<String> {
        self.meta().schema.clone()
    }

    fn read_rows(&self, start: usize, end: usize) -> Result<Data> {
        self.read_data_rows(start, end)
    }

    fn nbytes(&self) -> Option<usize> {
        Some(self.total_bytes())
    }

    fn take_rows(&self, rows: &[usize]) -> Result<Data> {
        self.take_data_rows(rows)
    }

    /// Scans the store in blocks of rows (memory stays bounded by a block).
    fn entity_counts(&self, depth: usize) -> Result<Vec<u64>> {
        let n = StoreReader::len(self);
        let mut out = Vec::with_capacity(n);
        let mut a = 0;
        loop {
            let b = (a + COUNT_BLOCK_ROWS).min(n);
            out.extend(self.read_data_rows(a, b)?.entity_counts(depth)?);
            if b == n {
                return Ok(out);
            }
            a = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{Shuffle, Stream, StreamOptions};
    use grumpy_core::Array;
    use std::sync::Arc;

    /// A store 30× bigger than its chunk cache streams a shuffled epoch with the cache never
    /// holding more than its bound, and every batch still right.
    #[test]
    fn chunk_cache_stays_within_its_bound() {
        let dir = std::env::temp_dir().join(format!("grumpy-cache-bound-{}", std::process::id()));
        let rows: Vec<Vec<f64>> = (0..20000)
            .map(|i| (0..(i % 13)).map(|j| (i * 20 + j) as f64).collect())
            .collect();
        let a = Array::from_item(&rows.into(), None).unwrap();
        let o = crate::SaveOptions {
            chunk_size: Some(100),
            ..Default::default()
        };
        crate::save(&a, &dir, &o).unwrap();
        let cap = 16 << 10;
        let reader = Arc::new(StoreReader::open_with_cache(&dir, cap).unwrap());
        let stored: usize = a.layout.nbytes();
        assert!(stored > 30 * cap, "{stored} bytes of data");
        let st = Stream::new(
            reader.clone(),
            StreamOptions {
                batch_size: 50,
                shuffle: Shuffle::Batches,
                seed: Some(1),
                ..Default::default()
            },
        )
        .unwrap();
        let mut peak = 0;
        for (b, r) in st.iter().zip(st.row_ranges()) {
            let b = b.unwrap().into_array().unwrap();
            assert_eq!(b.to_item(), a.slice(r.start, r.len()).to_item());
            peak = peak.max(reader.cache_bytes());
        }
        assert!(peak > 0, "the cache was used");
        assert!(peak <= cap, "cache held {peak} bytes, bound {cap}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The nesting a stream resolves levels against comes from the form, without a read, and
    /// equals the loaded array's for leaves, list chains, unions and strings.
    #[test]
    fn nesting_from_the_form_matches_the_data() {
        use grumpy_core::layout::Item;
        let dir = std::env::temp_dir().join(format!("grumpy-nesting-{}", std::process::id()));
        let l = Item::List;
        let f = Item::from;
        let items = [
            l(vec![f(1.0), f(2.0)]),
            l(vec![l(vec![l(vec![f(1.0)])]), l(vec![])]),
            l(vec![f(1.0), l(vec![f(2.0), f(3.0)])]), // union rows
            l(vec![l(vec![f(1.0)]), l(vec![l(vec![f(2.0)])])]), // union inside a list
            l(vec![Item::from("ab"), Item::from("c")]),
        ];
        for item in items {
            let a = Array::from_item(&item, None).unwrap();
            crate::save(&a, &dir, &Default::default()).unwrap();
            let r = StoreReader::open(&dir).unwrap();
            assert_eq!(r.nesting(), a.ndim() - 1, "{item:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
