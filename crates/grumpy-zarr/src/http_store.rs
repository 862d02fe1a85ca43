//! A read-only Zarr store over HTTP(S) (cargo feature `http`), on `ureq` with `rustls`: no
//! OpenSSL, no async runtime. Keys map to `{base}/{key}`; a missing key (404) is absent; a
//! byte range is one `Range: bytes=..` request per range (servers that ignore `Range` and
//! answer 200 with the whole value are sliced locally), so no multipart responses are parsed.
//! Any other status (403, 500, ...), a refused connection or a silent server (see
//! `GRUMPY_HTTP_TIMEOUT`) is an error: a `StoreError` for the caller.
//!
//! ```no_run
//! # #[cfg(feature = "http")] {
//! // any store served over HTTP reads like a local one
//! let a = grumpy_zarr::load("https://example.org/proteins.zarr").unwrap();
//! # }
//! ```

use std::time::Duration;
use zarrs::storage::byte_range::{ByteRange, ByteRangeIterator};
use zarrs::storage::{
    Bytes, MaybeBytes, MaybeBytesIterator, ReadableStorageTraits, StorageError, StoreKey,
};

/// How long a connection may stay silent (connecting, or no byte sent or received) before
/// the request fails: `GRUMPY_HTTP_TIMEOUT` seconds (default 30), so a server that accepts a
/// connection and never answers is a `StoreError`, not a hang.
fn stall_timeout() -> Duration {
    std::env::var("GRUMPY_HTTP_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(30), Duration::from_secs_f64)
}

/// A store rooted at an `http://` or `https://` URL.
#[derive(Debug)]
pub(crate) struct HttpStore {
    base: String,
    agent: ureq::Agent,
}

fn other(e: impl std::fmt::Display) -> StorageError {
    StorageError::Other(e.to_string())
}

impl HttpStore {
    /// A store at `base` (the URL of the directory holding the root `zarr.json`).
    pub(crate) fn new(base: &str) -> HttpStore {
        let stall = Some(stall_timeout());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(stall)
            .timeout_per_read(stall)
            .timeout_per_write(stall)
            .timeout_recv_body(Some(Duration::from_secs(300)))
            .build()
            .into();
        HttpStore {
            base: base.trim_end_matches('/').to_owned(),
            agent,
        }
    }

    fn url(&self, key: &StoreKey) -> String {
        format!("{}/{}", self.base, key.as_str().trim_start_matches('/'))
    }

    /// GET `key` with an optional `Range` header: `Ok(None)` on 404, else the status and body.
    fn fetch(
        &self,
        key: &StoreKey,
        range: Option<&str>,
    ) -> Result<Option<(u16, Vec<u8>)>, StorageError> {
        let url = self.url(key);
        let mut req = self.agent.get(&url);
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        let resp = req.call().map_err(|e| other(format!("GET {url}: {e}")))?;
        let status = resp.status().as_u16();
        match status {
            404 => Ok(None),
            200 | 206 => {
                let body = resp
                    .into_body()
                    .into_with_config()
                    .limit(u64::MAX)
                    .read_to_vec()
                    .map_err(|e| other(format!("GET {url}: {e}")))?;
                Ok(Some((status, body)))
            }
            _ => Err(other(format!(
                "GET {url}: the server answered HTTP {status}"
            ))),
        }
    }

    /// One byte range of `key`.
    fn range(&self, key: &StoreKey, r: ByteRange) -> Result<MaybeBytes, StorageError> {
        let header = match r {
            ByteRange::FromStart(0, None) => None,
            ByteRange::FromStart(_, Some(0)) | ByteRange::Suffix(0) => {
                // an empty range: only existence matters
                return Ok(self.size_key(key)?.map(|_| Bytes::new()));
            }
            ByteRange::FromStart(o, None) => Some(format!("bytes={o}-")),
            ByteRange::FromStart(o, Some(n)) => Some(format!("bytes={o}-{}", o + n - 1)),
            ByteRange::Suffix(n) => Some(format!("bytes=-{n}")),
        };
        let Some((status, body)) = self.fetch(key, header.as_deref())? else {
            return Ok(None);
        };
        let size = body.len() as u64;
        let bytes = Bytes::from(body);
        if header.is_none() {
            return Ok(Some(bytes));
        }
        if status == 206 {
            // a 206 body is exactly the range asked
            if let ByteRange::FromStart(_, Some(n)) | ByteRange::Suffix(n) = r {
                if bytes.len() as u64 != n {
                    return Err(other(format!(
                        "GET {}: asked for {n} bytes, the server sent {}",
                        self.url(key),
                        bytes.len()
                    )));
                }
            }
            return Ok(Some(bytes));
        }
        // 200 to a range request: the server ignores Range; slice the whole value
        let (a, b) = (r.start(size), r.end(size));
        if a > b || b > size {
            return Err(other(format!(
                "GET {}: byte range {a}..{b} is past the {size} bytes stored",
                self.url(key)
            )));
        }
        Ok(Some(bytes.slice(a as usize..b as usize)))
    }
}

impl ReadableStorageTraits for HttpStore {
    fn get(&self, key: &StoreKey) -> Result<MaybeBytes, StorageError> {
        self.range(key, ByteRange::FromStart(0, None))
    }

    fn get_partial_many<'a>(
        &'a self,
        key: &StoreKey,
        byte_ranges: ByteRangeIterator<'a>,
    ) -> Result<MaybeBytesIterator<'a>, StorageError> {
        let mut out = Vec::new();
        for r in byte_ranges {
            match self.range(key, r)? {
                Some(b) => out.push(Ok(b)),
                None => return Ok(None),
            }
        }
        Ok(Some(Box::new(out.into_iter())))
    }

    fn size_key(&self, key: &StoreKey) -> Result<Option<u64>, StorageError> {
        let url = self.url(key);
        let resp = self
            .agent
            .head(&url)
            .call()
            .map_err(|e| other(format!("HEAD {url}: {e}")))?;
        match resp.status().as_u16() {
            404 => Ok(None),
            200 => resp
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .map(Some)
                .ok_or_else(|| other(format!("HEAD {url}: no valid Content-Length"))),
            s => Err(other(format!("HEAD {url}: the server answered HTTP {s}"))),
        }
    }

    fn supports_get_partial(&self) -> bool {
        true
    }
}
