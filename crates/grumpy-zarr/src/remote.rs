//! Read-only stores at URLs.
//!
//! | scheme            | cargo feature  | backend                                              |
//! |-------------------|----------------|------------------------------------------------------|
//! | `http://`, `https://` | `http`     | `http_store` (`ureq` + `rustls`, range requests) |
//! | `s3://`, `gs://`  | `object-store` | `zarrs_object_store` over `object_store`, on a small tokio runtime |
//!
//! Credentials for object stores come from the usual environment variables
//! (`AWS_ACCESS_KEY_ID`, `GOOGLE_APPLICATION_CREDENTIALS`, ...), read by `object_store`.
//! A scheme whose feature is off, or any other scheme, is `Unsupported` with a fix.
//!
//! ```
//! let e = grumpy_zarr::load("ftp://example.invalid/p.zarr").unwrap_err();
//! assert_eq!(e.code(), grumpy_core::Code::Unsupported);
//! ```

use crate::error::{Error, Result};
use crate::zio::RStorage;
use grumpy_core::Code;

/// The fix text for a URL this build cannot read: how to get a build that can.
pub const BUILD_FIX: &str = "download the store to a local directory and pass its path, or \
    build grumpy with URL support from a source checkout: \
    `pip install . --config-settings=build-args=\"--features http\"` (http/https; on by \
    default) or `--features object-store` (s3/gs), or `maturin develop --release --features \
    http`; `grumpy._core.features()` lists what a build has";

fn unsupported(url: &str, cause: &str) -> Error {
    Error::new(
        Code::Unsupported,
        format!("cannot read the store URL {url:?}"),
        cause.to_owned(),
        BUILD_FIX,
    )
}

/// The URL features compiled into this build (`"http"`, `"object-store"`).
///
/// ```
/// let f = grumpy_zarr::remote::features();
/// assert_eq!(f.contains(&"http"), cfg!(feature = "http"));
/// ```
pub fn features() -> Vec<&'static str> {
    let mut v = Vec::new();
    if cfg!(feature = "http") {
        v.push("http");
    }
    if cfg!(feature = "object-store") {
        v.push("object-store");
    }
    v
}

/// Open a read-only storage for `url`.
pub(crate) fn open(url: &str) -> Result<RStorage> {
    let scheme = url.split("://").next().unwrap_or("");
    match scheme {
        "http" | "https" => open_http(url),
        "s3" | "gs" | "gcs" => open_object_store(url),
        _ => Err(unsupported(
            url,
            &format!("the scheme {scheme:?} is not supported (http, https, s3, gs are)"),
        )),
    }
}

#[cfg(feature = "http")]
fn open_http(url: &str) -> Result<RStorage> {
    Ok(std::sync::Arc::new(crate::http_store::HttpStore::new(url)))
}

#[cfg(not(feature = "http"))]
fn open_http(url: &str) -> Result<RStorage> {
    Err(unsupported(url, "this build has no HTTP support"))
}

#[cfg(feature = "object-store")]
fn open_object_store(url: &str) -> Result<RStorage> {
    use std::sync::{Arc, OnceLock};
    use zarrs::storage::storage_adapter::async_to_sync::{
        AsyncToSyncBlockOn, AsyncToSyncStorageAdapter,
    };

    static RUNTIME: OnceLock<std::io::Result<tokio::runtime::Runtime>> = OnceLock::new();
    struct BlockOn(&'static tokio::runtime::Runtime);
    impl AsyncToSyncBlockOn for BlockOn {
        fn block_on<F: core::future::Future>(&self, future: F) -> F::Output {
            self.0.block_on(future)
        }
    }

    let fail = |cause: String| {
        crate::error::store_error(
            format!("cannot open the store URL {url:?}"),
            cause,
            "check the URL and the credentials in the environment",
        )
    };
    let parsed = url::Url::parse(url).map_err(|e| fail(e.to_string()))?;
    let (store, prefix) = object_store::parse_url(&parsed).map_err(|e| fail(e.to_string()))?;
    let store = object_store::prefix::PrefixStore::new(store, prefix);
    let rt = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
        })
        .as_ref()
        .map_err(|e| fail(e.to_string()))?;
    let store = Arc::new(zarrs_object_store::AsyncObjectStore::new(store));
    Ok(Arc::new(AsyncToSyncStorageAdapter::new(store, BlockOn(rt))))
}

#[cfg(not(feature = "object-store"))]
fn open_object_store(url: &str) -> Result<RStorage> {
    Err(unsupported(
        url,
        "this build has no object-store (s3/gs) support",
    ))
}
