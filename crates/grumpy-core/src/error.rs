//! The one error type of grumpy-core.
//!
//! Every failure carries a [`Code`] (which maps to a Python exception class), a one-line
//! summary, the cause, and a fix the user can apply.
//!
//! ```
//! use grumpy_core::error::{Code, Error};
//! let e = Error::new(Code::Argument, "bad k", "k was -1", "pass k >= 0");
//! assert_eq!(e.code(), Code::Argument);
//! assert!(e.to_string().contains("fix: pass k >= 0"));
//! ```

use std::fmt;

/// Error category; each maps to one Python exception class (`grumpy.<Code>Error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Code {
    /// A bad argument value (Python `ArgumentError(ValueError)`).
    Argument,
    /// Shapes that cannot broadcast (`BroadcastError(ValueError)`).
    Broadcast,
    /// A value whose ragged shape does not fit (`ShapeError(ValueError)`).
    Shape,
    /// Unsupported or mismatched dtypes (`DTypeError(TypeError)`).
    DType,
    /// Dataframe schema problems (`SchemaError(ValueError)`).
    Schema,
    /// Index out of range (`OutOfBoundsError(IndexError)`).
    OutOfBounds,
    /// Missing, corrupt or incompatible store (`StoreError(OSError)`).
    Store,
    /// A function that cannot be compiled (`CompileError`).
    Compile,
    /// An operation not implemented for this input (`Unsupported(NotImplementedError)`).
    Unsupported,
    /// A value error in data (NaN coordinates, division by zero): `ArgumentError(ValueError)`.
    Value,
}

impl Code {
    /// Stable name used in messages (`grumpy.<name>`); it is also the name of the Python
    /// exception class raised, and the `.code` attribute of that exception.
    ///
    /// ```
    /// use grumpy_core::error::Code;
    /// assert_eq!(Code::DType.name(), "DTypeError");
    /// assert_eq!(Code::Value.name(), "ArgumentError");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Code::Argument => "ArgumentError",
            Code::Broadcast => "BroadcastError",
            Code::Shape => "ShapeError",
            Code::DType => "DTypeError",
            Code::Schema => "SchemaError",
            Code::OutOfBounds => "OutOfBoundsError",
            Code::Store => "StoreError",
            Code::Compile => "CompileError",
            Code::Unsupported => "Unsupported",
            // A data value error is reported as the `ArgumentError` class (a `ValueError`), so the
            // code, the class and the message prefix always agree.
            Code::Value => "ArgumentError",
        }
    }
}

/// A grumpy error: code, summary, cause and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: Code,
    summary: String,
    cause: String,
    fix: String,
}

impl Error {
    /// Build an error from its parts.
    ///
    /// ```
    /// # use grumpy_core::error::{Code, Error};
    /// let e = Error::new(Code::Shape, "shape mismatch", "3 vs 2", "reshape");
    /// assert_eq!(e.fix(), "reshape");
    /// ```
    pub fn new(
        code: Code,
        summary: impl Into<String>,
        cause: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Error {
            code,
            summary: summary.into(),
            cause: cause.into(),
            fix: fix.into(),
        }
    }
    /// The category.
    pub fn code(&self) -> Code {
        self.code
    }
    /// One-line summary.
    pub fn summary(&self) -> &str {
        &self.summary
    }
    /// What caused it.
    pub fn cause(&self) -> &str {
        &self.cause
    }
    /// How to fix it.
    pub fn fix(&self) -> &str {
        &self.fix
    }
    /// Prefix the summary with context (e.g. the column or batch being processed).
    #[must_use]
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.summary = format!("{ctx}: {}", self.summary);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "grumpy.{}: {}\ncause: {}\nfix: {}",
            self.code.name(),
            self.summary,
            self.cause,
            self.fix
        )
    }
}

impl std::error::Error for Error {}

/// Result alias used across grumpy-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Return early with an [`Error`]: `bail!(Code, summary, cause, fix)` (each part may be a
/// `format!` tuple-free expression).
///
/// ```
/// use grumpy_core::{bail, error::{Code, Result}};
/// fn f(k: i64) -> Result<()> {
///     if k < 0 { bail!(Code::Argument, "k must be >= 0", format!("k = {k}"), "pass k >= 0"); }
///     Ok(())
/// }
/// assert!(f(-1).is_err());
/// ```
#[macro_export]
macro_rules! bail {
    ($code:expr, $summary:expr, $cause:expr, $fix:expr $(,)?) => {
        return Err($crate::error::Error::new($code, $summary, $cause, $fix))
    };
}

/// `ensure!(cond, Code, summary, cause, fix)`: bail unless `cond` holds.
///
/// ```
/// use grumpy_core::{ensure, error::{Code, Result}};
/// fn f(k: i64) -> Result<()> {
///     ensure!(k >= 0, Code::Argument, "k must be >= 0", format!("k = {k}"), "pass k >= 0");
///     Ok(())
/// }
/// assert!(f(1).is_ok());
/// ```
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $code:expr, $summary:expr, $cause:expr, $fix:expr $(,)?) => {
        if !($cond) {
            $crate::bail!($code, $summary, $cause, $fix);
        }
    };
}
