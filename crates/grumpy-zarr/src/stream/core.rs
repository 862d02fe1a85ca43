//! [`Stream`]: a view over the batches of a source (see the module docs of `stream`).

use super::options::{resolve_level, Shuffle, StreamOptions};
use super::plan::{batch_seed, epoch_order, plan, rank_share, PlanSpec};
use super::prefetch::Prefetcher;
use super::source::{BatchSource, MemorySource, Rows};
use grumpy_core::{bail, Code, Result};
use std::ops::Range;
use std::sync::Arc;

/// The batches of a source for one rank, in epoch order, possibly a selection of them.
pub struct Stream<B: Rows> {
    src: Arc<dyn BatchSource<Batch = B>>,
    spec: PlanSpec,
    level_shuffle: Option<usize>,
    batches: Arc<Vec<Range<usize>>>,
    order: Arc<Vec<usize>>,
    selection: Option<Arc<Vec<usize>>>,
    workers: usize,
    prefetch: usize,
}

impl<B: Rows> Clone for Stream<B> {
    fn clone(&self) -> Self {
        Stream {
            src: Arc::clone(&self.src),
            spec: self.spec.clone(),
            level_shuffle: self.level_shuffle,
            batches: Arc::clone(&self.batches),
            order: Arc::clone(&self.order),
            selection: self.selection.clone(),
            workers: self.workers,
            prefetch: self.prefetch,
        }
    }
}

impl<B: Rows> std::fmt::Debug for Stream<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stream")
            .field("batches", &self.len())
            .field("spec", &self.spec)
            .field("workers", &self.workers)
            .field("prefetch", &self.prefetch)
            .finish()
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6772_756d_7079);
    h.finish()
}

impl<B: Rows> Stream<B> {
    /// Validate `opts` against `src` and plan the batches (reads metadata only: the length, and
    /// the entity counts when `batch_on` is a nested level).
    pub fn new(src: Arc<dyn BatchSource<Batch = B>>, opts: StreamOptions) -> Result<Self> {
        opts.check()?;
        let (nesting, names) = (src.nesting(), src.level_names());
        let on = match &opts.batch_on {
            Some(l) => resolve_level("batch_on", l, nesting, &names)?,
            None => 0,
        };
        let level_shuffle = match &opts.shuffle {
            Shuffle::Level(l) => Some(resolve_level("shuffle", l, nesting, &names)?),
            _ => None,
        };
        let src: Arc<dyn BatchSource<Batch = B>> = if opts.in_memory {
            Arc::new(MemorySource::load(&*src)?)
        } else {
            src
        };
        let counts = if on > 0 {
            let c = src.entity_counts(on)?;
            if c.len() != src.len() {
                bail!(
                    Code::Store,
                    "entity counts do not match the number of rows",
                    format!("{} counts for {} rows", c.len(), src.len()),
                    "the store is inconsistent: save it again"
                );
            }
            Some(c)
        } else {
            None
        };
        let spec = PlanSpec {
            batch_size: opts.batch_size,
            drop_last: opts.drop_last,
            shuffle: opts.shuffle != Shuffle::Off,
            seed: opts.seed.unwrap_or_else(random_seed),
            epoch: 0,
            world_size: opts.world_size,
            rank: opts.rank,
        };
        let p = plan(src.len(), counts.as_deref(), &spec);
        Ok(Stream {
            src,
            spec,
            level_shuffle,
            batches: Arc::new(p.batches),
            order: Arc::new(p.order),
            selection: None,
            workers: opts.workers,
            prefetch: opts.prefetch,
        })
    }

    /// Number of batches in this view.
    pub fn len(&self) -> usize {
        self.selection
            .as_ref()
            .map_or(self.order.len(), |s| s.len())
    }

    /// True when there are no batches.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The plan options (seed resolved, current epoch).
    pub fn spec(&self) -> &PlanSpec {
        &self.spec
    }

    /// Reader threads and prefetch window.
    pub fn workers_prefetch(&self) -> (usize, usize) {
        (self.workers, self.prefetch)
    }

    /// The source being streamed.
    pub fn source(&self) -> &Arc<dyn BatchSource<Batch = B>> {
        &self.src
    }

    /// Set the epoch: the batch order (and the within-batch shuffles) change with it.
    pub fn set_epoch(&mut self, epoch: u64) {
        self.spec.epoch = epoch;
        let order = epoch_order(self.batches.len(), self.spec.shuffle, self.spec.seed, epoch);
        self.order = Arc::new(rank_share(&order, self.spec.world_size, self.spec.rank));
    }

    /// Positions (in the unselected stream) of this view's batches, when it is a selection
    /// (`st[a:b]`, `st[[…]]`); `None` for the whole stream. `select` on a fresh stream with
    /// the same options and epoch rebuilds this view.
    pub fn selection(&self) -> Option<&[usize]> {
        self.selection.as_deref().map(Vec::as_slice)
    }

    /// Batch ids (into the plan's ranges) of this view, in order.
    fn ids(&self) -> Vec<usize> {
        match &self.selection {
            Some(s) => s.iter().map(|&k| self.order[k]).collect(),
            None => self.order.to_vec(),
        }
    }

    /// Row range of every batch of this view.
    pub fn row_ranges(&self) -> Vec<Range<usize>> {
        self.ids()
            .into_iter()
            .map(|i| self.batches[i].clone())
            .collect()
    }

    /// A view of the batches at `positions` of this view (they compose).
    pub fn select(&self, positions: &[usize]) -> Result<Self> {
        let n = self.len();
        if let Some(&bad) = positions.iter().find(|&&p| p >= n) {
            bail!(
                Code::OutOfBounds,
                format!("batch {bad} is out of range"),
                format!("the stream has {n} batches"),
                "select batches below len(stream)"
            );
        }
        let base: Vec<usize> = match &self.selection {
            Some(s) => positions.iter().map(|&p| s[p]).collect(),
            None => positions.to_vec(),
        };
        let mut out = self.clone();
        out.selection = Some(Arc::new(base));
        Ok(out)
    }

    /// Read batch `i` of this view now (in the calling thread).
    pub fn get(&self, i: usize) -> Result<B> {
        let n = self.len();
        if i >= n {
            bail!(
                Code::OutOfBounds,
                format!("batch {i} is out of range"),
                format!("the stream has {n} batches"),
                "pass an index below len(stream)"
            );
        }
        let id = match &self.selection {
            Some(s) => self.order[s[i]],
            None => self.order[i],
        };
        load(
            &*self.src,
            self.batches[id].clone(),
            self.level_shuffle,
            batch_seed(self.spec.seed, self.spec.epoch, id),
        )
    }

    /// Batches `first..first + count` of this view read as one batch (their rows in order),
    /// when they are one contiguous run of the source's rows and no level is shuffled inside
    /// batches; `None` otherwise. For callers that process several small consecutive batches
    /// at once and split the result (a compiled stream's pipeline).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use grumpy_core::Array;
    /// use grumpy_zarr::stream::{MemorySource, Stream, StreamOptions};
    /// let a = Array::from_item(&vec![vec![1.0], vec![2.0, 3.0], vec![], vec![4.0]].into(), None).unwrap();
    /// let opts = StreamOptions { batch_size: 1, ..Default::default() };
    /// let st = Stream::new(Arc::new(MemorySource::from_array(a)), opts).unwrap();
    /// let run = st.get_run(1, 2).unwrap().unwrap();
    /// assert_eq!(run.to_item(), vec![vec![2.0, 3.0], vec![]].into());
    /// // batches 3 and 0 are not one run
    /// assert!(st.select(&[3, 0]).unwrap().get_run(0, 2).unwrap().is_none());
    /// ```
    pub fn get_run(&self, first: usize, count: usize) -> Result<Option<B>> {
        let end = first.saturating_add(count);
        if end > self.len() || count == 0 {
            bail!(
                Code::OutOfBounds,
                format!("batches {first}..{end} are out of range"),
                format!("the stream has {} batches", self.len()),
                "ask for batches below len(stream)"
            );
        }
        if self.level_shuffle.is_some() {
            return Ok(None);
        }
        let rows = |i: usize| self.row_range(i);
        if (first + 1..end).any(|i| rows(i).start != rows(i - 1).end) {
            return Ok(None);
        }
        self.src
            .read_rows(rows(first).start, rows(end - 1).end)
            .map(Some)
    }

    /// The source rows of batch `i` of this view (`i < len()`).
    pub fn row_range(&self, i: usize) -> Range<usize> {
        let id = match &self.selection {
            Some(s) => self.order[s[i]],
            None => self.order[i],
        };
        self.batches[id].clone()
    }

    /// Iterate the batches of this view with `workers` reader threads, `prefetch` ahead.
    pub fn iter(&self) -> Prefetcher<B> {
        self.iter_with(self.workers, self.prefetch)
    }

    /// Like [`Stream::iter`] with explicit threads and window.
    pub fn iter_with(&self, workers: usize, prefetch: usize) -> Prefetcher<B> {
        let ids = self.ids();
        let src = Arc::clone(&self.src);
        let batches = Arc::clone(&self.batches);
        let (level, seed, epoch) = (self.level_shuffle, self.spec.seed, self.spec.epoch);
        Prefetcher::new(ids.len(), workers, prefetch, move |k| {
            let id = ids[k];
            load(
                &*src,
                batches[id].clone(),
                level,
                batch_seed(seed, epoch, id),
            )
        })
    }
}

fn load<B: Rows>(
    src: &dyn BatchSource<Batch = B>,
    rows: Range<usize>,
    level: Option<usize>,
    seed: u64,
) -> Result<B> {
    let b = src.read_rows(rows.start, rows.end)?;
    match level {
        Some(d) => b.permute_level(d, seed),
        None => Ok(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{LevelRef, Shuffle};
    use grumpy_core::{Array, Error};
    use std::sync::atomic::{AtomicBool, Ordering};

    fn proteins(n: usize) -> Array {
        let rows: grumpy_core::layout::Item = (0..n)
            .map(|i| {
                (0..(i % 5))
                    .map(|j| vec![(i * 10 + j) as f64; 3])
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
            .into();
        Array::from_item(&rows, None).unwrap()
    }

    fn stream(a: &Array, o: StreamOptions) -> Result<Stream<Array>> {
        Stream::new(Arc::new(MemorySource::from_array(a.clone())), o)
    }

    #[test]
    fn batches_equal_slices() {
        let a = proteins(23);
        for (on, shuffle) in [
            (None, Shuffle::Off),
            (Some(LevelRef::Depth(1)), Shuffle::Batches),
            (None, Shuffle::Level(LevelRef::Depth(0))),
        ] {
            let o = StreamOptions {
                batch_size: 4,
                batch_on: on,
                shuffle: shuffle.clone(),
                seed: Some(5),
                ..Default::default()
            };
            let st = stream(&a, o).unwrap();
            let ranges = st.row_ranges();
            let got: Vec<Array> = st.iter().map(|b| b.unwrap()).collect();
            assert_eq!(got.len(), st.len());
            let mut rows: Vec<usize> = Vec::new();
            for (k, (b, r)) in got.iter().zip(&ranges).enumerate() {
                let want = a.slice(r.start, r.len());
                if matches!(shuffle, Shuffle::Level(_)) {
                    assert_eq!(b.len(), want.len());
                } else {
                    assert_eq!(b.to_item(), want.to_item());
                }
                assert_eq!(st.get(k).unwrap(), *b, "get agrees with iter");
                rows.extend(r.clone());
            }
            rows.sort();
            assert_eq!(rows, (0..23).collect::<Vec<_>>());
        }
    }

    #[test]
    fn selection_composes_and_epochs() {
        let a = proteins(40);
        let o = StreamOptions {
            batch_size: 3,
            shuffle: Shuffle::Batches,
            seed: Some(1),
            ..Default::default()
        };
        let mut st = stream(&a, o).unwrap();
        let sub = st.select(&[2, 3, 4]).unwrap();
        assert_eq!(
            sub.select(&[0]).unwrap().get(0).unwrap(),
            st.get(2).unwrap()
        );
        assert_eq!(sub.select(&[3]).unwrap_err().code(), Code::OutOfBounds);
        let e0 = st.row_ranges();
        st.set_epoch(0);
        assert_eq!(st.row_ranges(), e0);
        st.set_epoch(1);
        assert_ne!(st.row_ranges(), e0);
        assert_eq!(st.get(st.len()).unwrap_err().code(), Code::OutOfBounds);
    }

    #[test]
    fn bad_levels() {
        let a = proteins(4);
        let o = StreamOptions {
            batch_on: Some(LevelRef::Name("residue".into())),
            ..Default::default()
        };
        assert_eq!(stream(&a, o).err().unwrap().code(), Code::Argument);
        let o = StreamOptions {
            shuffle: Shuffle::Level(LevelRef::Depth(3)),
            ..Default::default()
        };
        assert_eq!(stream(&a, o).err().unwrap().code(), Code::Argument);
    }

    /// A source that fails once "deleted" (a store removed mid-epoch).
    struct Flaky(Array, AtomicBool);
    impl BatchSource for Flaky {
        type Batch = Array;
        fn len(&self) -> usize {
            self.0.len()
        }
        fn nesting(&self) -> usize {
            1
        }
        fn read_rows(&self, a: usize, b: usize) -> Result<Array> {
            if self.1.load(Ordering::SeqCst) {
                return Err(Error::new(
                    Code::Store,
                    "store is gone",
                    "deleted",
                    "restore it",
                ));
            }
            Ok(self.0.slice(a, b - a))
        }
    }

    #[test]
    fn vanished_source_is_an_error_not_a_hang() {
        let src = Arc::new(Flaky(proteins(100), AtomicBool::new(false)));
        let st = Stream::new(
            src.clone(),
            StreamOptions {
                batch_size: 2,
                ..Default::default()
            },
        )
        .unwrap();
        let mut it = st.iter();
        assert!(it.next().unwrap().is_ok());
        src.1.store(true, Ordering::SeqCst);
        let errs = it.filter(|r| r.is_err()).count();
        assert!(errs >= 40);
    }
}
