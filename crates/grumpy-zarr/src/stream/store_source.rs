//! A grumpy store as a [`BatchSource`]: batches read only the chunks their rows need.

use super::source::BatchSource;
use crate::read::StoreReader;
use grumpy_core::{Array, Result};

impl BatchSource for StoreReader {
    type Batch = Array;

    fn len(&self) -> usize {
        StoreReader::len(self)
    }

    fn nesting(&self) -> usize {
        // An empty read carries the full structure without touching data chunks.
        StoreReader::read_rows(self, 0, 0).map_or(0, |a| a.ndim().saturating_sub(1))
    }

    fn read_rows(&self, start: usize, end: usize) -> Result<Array> {
        StoreReader::read_rows(self, start, end)
    }

    fn take_rows(&self, rows: &[usize]) -> Result<Array> {
        StoreReader::take_rows(self, rows)
    }
}
