//! Read-only stores at URLs.
//!
//! | scheme            | cargo feature  | backend                                              |
//! |-------------------|----------------|------------------------------------------------------|
//! | `http://`, `https://` | `http`     | `http_store` (`ureq` + `rustls`, range requests) |
//! | `s3://`, `gs://`  | `object-store` | `zarrs_object_store` over `object_store`, on a small tokio runtime (`object_backend`) |
//!
//! Credentials for object stores come from the usual environment variables
//! (`AWS_ACCESS_KEY_ID`, `GOOGLE_APPLICATION_CREDENTIALS`, ...), read by `object_store`.
//! A URL whose scheme needs a feature this build lacks is a `StoreError` whose fix names
//! that feature ([`missing_feature`]); any other scheme is `Unsupported`.
//!
//! ```
//! let e = grumpy_zarr::load("ftp://example.invalid/p.zarr").unwrap_err();
//! assert_eq!(e.code(), grumpy_core::Code::Unsupported);
//! ```

use crate::error::{Error, Result};
use crate::zio::RStorage;
use grumpy_core::Code;

/// The error for a URL this build cannot read because it was built without `feature`
/// (`"http"` or `"object-store"`): a `StoreError` whose fix says how to get a build with it.
///
/// ```
/// let e = grumpy_zarr::remote::missing_feature("s3://bucket/p.zarr", "object-store");
/// assert_eq!(e.code(), grumpy_core::Code::Store);
/// assert!(e.fix().contains("--features object-store"));
/// ```
pub fn missing_feature(url: &str, feature: &str) -> Error {
    let what = if feature == "http" {
        "http:// and https:// URLs"
    } else {
        "s3:// and gs:// URLs"
    };
    crate::error::store_error(
        format!("cannot read the store URL {url:?}"),
        format!("this build of grumpy has no `{feature}` cargo feature, which reads {what}"),
        format!(
            "build grumpy with it from a source checkout: `pip install . \
             --config-settings=build-args=\"--features {feature}\"` (or `maturin develop \
             --release --features {feature}`; Rust: `grumpy-zarr = {{ features = \
             [\"{feature}\"] }}`), or download the store to a local directory and pass its \
             path; `grumpy._core.features()` lists what this build has"
        ),
    )
}

fn unsupported(url: &str, cause: &str) -> Error {
    Error::new(
        Code::Unsupported,
        format!("cannot read the store URL {url:?}"),
        cause.to_owned(),
        "pass a local directory, or an http(s)://, s3:// or gs:// URL",
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
        // unit tests only: an in-memory object store shared by the process
        #[cfg(all(test, feature = "object-store"))]
        "memory" => crate::object_backend::open(url),
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
    Err(missing_feature(url, "http"))
}

#[cfg(feature = "object-store")]
fn open_object_store(url: &str) -> Result<RStorage> {
    crate::object_backend::open(url)
}

#[cfg(not(feature = "object-store"))]
fn open_object_store(url: &str) -> Result<RStorage> {
    Err(missing_feature(url, "object-store"))
}

#[cfg(test)]
mod tests {
    /// Without a feature, its URLs are StoreErrors naming the feature (lazy open and full
    /// load alike); with it, the error (nothing listens there) is still a StoreError.
    #[test]
    fn urls_without_their_feature_say_which_to_build_with() {
        for (url, feature, built) in [
            ("http://127.0.0.1:9/p.zarr", "http", cfg!(feature = "http")),
            ("https://127.0.0.1:9/p.zarr", "http", cfg!(feature = "http")),
            (
                "s3://no-such-bucket/p.zarr",
                "object-store",
                cfg!(feature = "object-store"),
            ),
            (
                "gs://no-such-bucket/p.zarr",
                "object-store",
                cfg!(feature = "object-store"),
            ),
        ] {
            if built {
                continue; // the feature's own tests cover these
            }
            for e in [
                crate::load(url).unwrap_err(),
                crate::open(url).err().unwrap(),
                crate::load_frame(url).unwrap_err(),
            ] {
                assert_eq!(e.code(), grumpy_core::Code::Store, "{url}: {e}");
                assert!(e.fix().contains(&format!("--features {feature}")), "{e}");
                assert!(e.cause().contains(feature), "{e}");
            }
        }
    }

    #[test]
    fn other_schemes_are_unsupported() {
        let e = crate::load("ftp://example.invalid/p.zarr").unwrap_err();
        assert_eq!(e.code(), grumpy_core::Code::Unsupported);
        assert!(e.fix().contains("local directory"), "{e}");
    }
}
