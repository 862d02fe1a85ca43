//! Stream options and their validation (every bad value is an `ArgumentError` with a fix).

use grumpy_core::{bail, Code, Error, Result};

/// A nesting level: a depth (0 = outer rows) or a name from the source's level names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LevelRef {
    /// Depth below the outer rows (0 = the rows themselves).
    Depth(usize),
    /// A level name (a dataframe schema entry such as `"residue"`).
    Name(String),
}

/// What `shuffle=` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Shuffle {
    /// Batches in order.
    #[default]
    Off,
    /// Permute the batch order.
    Batches,
    /// Permute the batch order and the entities of a level inside each batch.
    Level(LevelRef),
}

/// Options of [`super::Stream`]; see `gr.stream` in API.md.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamOptions {
    /// Outer rows per batch, or entities of `batch_on` per batch (≥ 1).
    pub batch_size: usize,
    /// Drop a final batch that is not full.
    pub drop_last: bool,
    /// Shuffling.
    pub shuffle: Shuffle,
    /// Seed (required when shuffling over several ranks; random otherwise).
    pub seed: Option<u64>,
    /// Pack whole rows by the entities of this level.
    pub batch_on: Option<LevelRef>,
    /// Number of ranks (≥ 1).
    pub world_size: usize,
    /// This rank (< world_size).
    pub rank: usize,
    /// Reader threads (≥ 1).
    pub workers: usize,
    /// Batches in flight (≥ 1).
    pub prefetch: usize,
    /// Load the whole source once and slice it.
    pub in_memory: bool,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            batch_size: 32,
            drop_last: false,
            shuffle: Shuffle::Off,
            seed: None,
            batch_on: None,
            world_size: 1,
            rank: 0,
            workers: 2,
            prefetch: 4,
            in_memory: false,
        }
    }
}

/// Check an integer argument is at least `min` and convert it.
///
/// ```
/// use grumpy_zarr::stream::count_arg;
/// assert_eq!(count_arg("batch_size", 8, 1).unwrap(), 8);
/// assert!(count_arg("batch_size", 0, 1).is_err());
/// ```
pub fn count_arg(name: &str, v: i64, min: i64) -> Result<usize> {
    if v < min {
        bail!(
            Code::Argument,
            format!("{name} must be >= {min}"),
            format!("{name} = {v}"),
            format!("pass an integer {name} >= {min}")
        );
    }
    usize::try_from(v).map_err(|_| {
        Error::new(
            Code::Argument,
            format!("{name} is too large"),
            format!("{name} = {v}"),
            format!("pass a smaller {name}"),
        )
    })
}

impl StreamOptions {
    /// Validate the option values that do not depend on the source.
    pub fn check(&self) -> Result<()> {
        let one = |name: &str, v: usize| -> Result<()> {
            if v == 0 {
                bail!(
                    Code::Argument,
                    format!("{name} must be >= 1"),
                    format!("{name} = 0"),
                    format!("pass {name} >= 1")
                );
            }
            Ok(())
        };
        one("batch_size", self.batch_size)?;
        one("world_size", self.world_size)?;
        one("workers", self.workers)?;
        one("prefetch", self.prefetch)?;
        if self.rank >= self.world_size {
            bail!(
                Code::Argument,
                "rank must be below world_size",
                format!("rank = {}, world_size = {}", self.rank, self.world_size),
                "pass 0 <= rank < world_size"
            );
        }
        if self.shuffle != Shuffle::Off && self.seed.is_none() && self.world_size > 1 {
            bail!(
                Code::Argument,
                "shuffling over several ranks needs a seed",
                format!(
                    "shuffle is on with world_size = {} and seed = None, so ranks would disagree on the order",
                    self.world_size
                ),
                "pass the same seed=<int> on every rank"
            );
        }
        Ok(())
    }
}

/// Resolve a level against a source's nesting depth and level names.
pub fn resolve_level(what: &str, l: &LevelRef, nesting: usize, names: &[String]) -> Result<usize> {
    match l {
        LevelRef::Depth(d) if *d <= nesting => Ok(*d),
        LevelRef::Depth(d) => bail!(
            Code::Argument,
            format!("{what} level {d} does not exist"),
            format!("the data has {nesting} nested level(s) below its rows"),
            format!("pass {what} between 0 and {nesting}")
        ),
        LevelRef::Name(n) => match names.iter().position(|x| x == n) {
            Some(d) if d <= nesting => Ok(d),
            _ if names.is_empty() => bail!(
                Code::Argument,
                format!("unknown {what} level {n:?}"),
                "this data has no named levels (only dataframes with a schema do)",
                format!("pass an int depth instead (1 = the first nested level, up to {nesting})")
            ),
            _ => bail!(
                Code::Argument,
                format!("unknown {what} level {n:?}"),
                format!("the levels are {names:?}"),
                "pass one of those names"
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        let ok = StreamOptions::default();
        assert!(ok.check().is_ok());
        let bad = [
            StreamOptions {
                batch_size: 0,
                ..ok.clone()
            },
            StreamOptions {
                world_size: 2,
                rank: 2,
                ..ok.clone()
            },
            StreamOptions {
                workers: 0,
                ..ok.clone()
            },
            StreamOptions {
                prefetch: 0,
                ..ok.clone()
            },
            StreamOptions {
                world_size: 2,
                shuffle: Shuffle::Batches,
                ..ok.clone()
            },
        ];
        for b in bad {
            assert_eq!(b.check().unwrap_err().code(), Code::Argument, "{b:?}");
        }
        assert!(StreamOptions {
            world_size: 2,
            shuffle: Shuffle::Batches,
            seed: Some(1),
            ..ok
        }
        .check()
        .is_ok());
        assert_eq!(count_arg("x", -1, 0).unwrap_err().code(), Code::Argument);
    }

    #[test]
    fn levels() {
        let names = vec!["protein".to_owned(), "residue".to_owned()];
        assert_eq!(
            resolve_level("batch_on", &LevelRef::Name("residue".into()), 2, &names).unwrap(),
            1
        );
        assert_eq!(
            resolve_level("batch_on", &LevelRef::Depth(2), 2, &[]).unwrap(),
            2
        );
        for (l, n) in [
            (LevelRef::Name("atom".into()), names.clone()),
            (LevelRef::Name("r".into()), vec![]),
            (LevelRef::Depth(3), vec![]),
        ] {
            let e = resolve_level("batch_on", &l, 2, &n).unwrap_err();
            assert_eq!(e.code(), Code::Argument);
            assert!(!e.fix().is_empty());
        }
    }
}
