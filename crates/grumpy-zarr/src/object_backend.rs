//! Stores in object stores (`s3://bucket/prefix`, `gs://bucket/prefix`; cargo feature
//! `object-store`): `object_store` clients configured from the environment, seen by `zarrs`
//! through `zarrs_object_store`'s async store and its async-to-sync adapter, driven by a
//! small tokio runtime shared by the process.
//!
//! ```text
//!   StoreReader ─ sync ReadableStorageTraits ─ AsyncToSyncStorageAdapter ─ BlockOn(runtime)
//!                 └─ AsyncObjectStore ─ PrefixStore(prefix) ─ AmazonS3 | GoogleCloudStorage
//! ```
//!
//! Configuration and credentials come from the environment, as `object_store`'s `from_env`
//! reads it: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`
//! (S3-compatible servers), `AWS_ALLOW_HTTP`, ...; `GOOGLE_SERVICE_ACCOUNT`,
//! `GOOGLE_APPLICATION_CREDENTIALS`, ...
//!
//! ```no_run
//! // with AWS_* set in the environment
//! let a = grumpy_zarr::load("s3://my-bucket/data/proteins.zarr").unwrap();
//! ```

use crate::error::{store_error, Error, Result};
use crate::zio::RStorage;
use object_store::path::Path as ObjectPath;
use object_store::ObjectStore;
use std::sync::{Arc, OnceLock};
use zarrs::storage::storage_adapter::async_to_sync::{
    AsyncToSyncBlockOn, AsyncToSyncStorageAdapter,
};

fn fail(url: &str, cause: impl std::fmt::Display) -> Error {
    store_error(
        format!("cannot open the store URL {url:?}"),
        cause.to_string(),
        "check the URL (s3://bucket/path or gs://bucket/path) and the credentials and \
         endpoint in the environment (AWS_* / GOOGLE_* variables)",
    )
}

/// Open the object store at `url` (`s3://` or `gs://`, the key prefix from its path).
pub(crate) fn open(url: &str) -> Result<RStorage> {
    let parsed = url::Url::parse(url).map_err(|e| fail(url, e))?;
    let prefix = ObjectPath::from_url_path(parsed.path()).map_err(|e| fail(url, e))?;
    let store: Arc<dyn ObjectStore> = match parsed.scheme() {
        "s3" => Arc::new(
            object_store::aws::AmazonS3Builder::from_env()
                .with_url(url)
                .build()
                .map_err(|e| fail(url, e))?,
        ),
        "gs" | "gcs" => Arc::new(
            object_store::gcp::GoogleCloudStorageBuilder::from_env()
                .with_url(url)
                .build()
                .map_err(|e| fail(url, e))?,
        ),
        #[cfg(test)]
        "memory" => tests::memory(),
        other => return Err(fail(url, format!("unknown object store scheme {other:?}"))),
    };
    sync_storage(store, prefix).map_err(|e| fail(url, e))
}

/// The process's runtime for object-store requests (two worker threads, started on first
/// use).
fn runtime() -> std::result::Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<std::io::Result<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("grumpy-object-store")
                .enable_all()
                .build()
        })
        .as_ref()
        .map_err(ToString::to_string)
}

struct BlockOn(&'static tokio::runtime::Runtime);

impl AsyncToSyncBlockOn for BlockOn {
    fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

/// `store` under `prefix` as the synchronous read-only storage the readers use.
fn sync_storage(
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
) -> std::result::Result<RStorage, String> {
    let rt = runtime()?;
    let store = object_store::prefix::PrefixStore::new(store, prefix);
    let store = Arc::new(zarrs_object_store::AsyncObjectStore::new(store));
    Ok(Arc::new(AsyncToSyncStorageAdapter::new(store, BlockOn(rt))))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use grumpy_core::{Array, Frame};
    use object_store::memory::InMemory;
    use object_store::{ObjectStoreExt, PutPayload};
    use std::path::Path;

    /// The in-memory object store behind `memory://` URLs in unit tests.
    pub(crate) fn memory() -> Arc<dyn ObjectStore> {
        static MEM: OnceLock<Arc<InMemory>> = OnceLock::new();
        MEM.get_or_init(|| Arc::new(InMemory::new())).clone()
    }

    /// Copy every file of the local store `dir` into the in-memory object store under `prefix`.
    fn upload(dir: &Path, prefix: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mem = memory();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                    continue;
                }
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                let key = ObjectPath::from(format!("{prefix}/{rel}"));
                let bytes = std::fs::read(&p).unwrap();
                rt.block_on(mem.put(&key, PutPayload::from(bytes))).unwrap();
            }
        }
    }

    fn tmp(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("grumpy-objstore-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// A store copied into an object store reads back equal to the local one through the
    /// adapter path: whole loads, lazy row ranges, fancy rows, a sharded buffer, a dataframe.
    #[test]
    fn reads_stores_through_the_object_store_adapter() {
        let rows: Vec<Vec<f64>> = (0..500)
            .map(|i| (0..i % 7).map(|k| (i * 10 + k) as f64).collect())
            .collect();
        let a = Array::from_item(&rows.clone().into(), None).unwrap();
        for (tag, chunk) in [("plain", 64), ("sharded", 1)] {
            let dir = tmp(tag);
            let opts = crate::SaveOptions {
                chunk_size: Some(chunk),
                ..Default::default()
            };
            crate::save(&a, &dir, &opts).unwrap();
            upload(&dir, &format!("bucket/{tag}/a.zarr"));
            let url = format!("memory:///bucket/{tag}/a.zarr");
            assert_eq!(crate::load(&url).unwrap(), a, "{tag}");
            let r = crate::open(&url).unwrap();
            assert_eq!(r.len(), 500);
            for (lo, hi) in [(0, 1), (63, 130), (499, 500), (7, 7)] {
                let got = r.read_rows(lo, hi).unwrap().to_item();
                assert_eq!(got, a.slice(lo, hi - lo).to_item(), "{tag} {lo}..{hi}");
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
        let x = Array::from_item(&vec![vec![1.0, 2.0], vec![3.0]].into(), None).unwrap();
        let df = Frame::new(&["mol", "res"], vec![("x".into(), x)], &[]).unwrap();
        let dir = tmp("frame");
        crate::save_frame(&df, &dir, &Default::default()).unwrap();
        upload(&dir, "bucket/frame.zarr");
        assert_eq!(
            crate::load_frame("memory:///bucket/frame.zarr").unwrap(),
            df
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Missing stores, chunks and prefixes are StoreErrors, never panics or empty data.
    #[test]
    fn missing_objects_are_store_errors() {
        let e = crate::load("memory:///bucket/nothing-here.zarr").unwrap_err();
        assert_eq!(e.code(), grumpy_core::Code::Store, "{e}");
        let a = Array::from_item(&vec![vec![1i64, 2], vec![3]].into(), None).unwrap();
        let dir = tmp("missing");
        let opts = crate::SaveOptions {
            chunk_size: Some(1),
            ..Default::default()
        };
        crate::save(&a, &dir, &opts).unwrap();
        std::fs::remove_file(dir.join("node1-data/c/1")).unwrap();
        upload(&dir, "bucket/holed.zarr");
        let e = crate::load("memory:///bucket/holed.zarr").unwrap_err();
        assert_eq!(e.code(), grumpy_core::Code::Store, "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The URL's bucket and path reach the client: a bad URL is a StoreError naming it.
    #[test]
    fn bad_urls_are_store_errors() {
        let e = crate::load("s3://").unwrap_err();
        assert_eq!(e.code(), grumpy_core::Code::Store, "{e}");
    }
}
