//! One place that turns grumpy errors and Rust panics into Python exceptions, and runs work
//! with the GIL released.
//!
//! Every binding goes through [`run`] (GIL released) or [`guard`] (GIL kept): both catch
//! panics and raise them as `grumpy.Unsupported` ("internal error ... please report it").
//! A panic caught this way is an answer, not a crash, so the panic hook installed at module
//! init ([`install_panic_hook`]) keeps it off stderr and records where it happened for the
//! error's `cause`; panics outside a guard still print the default message.

use grumpy_core::{Code, Error};
use pyo3::prelude::*;
use pyo3::types::PyString;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

thread_local! {
    /// How many guards are active on this thread (guards nest: a binding may call another).
    static GUARDED: Cell<usize> = const { Cell::new(0) };
}

/// Guards active on any thread: a Rayon worker running a guarded call's parallel work panics
/// on its own thread, and Rayon re-raises that panic in the guarded caller.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Location of the last panic the hook kept quiet, for the error's `cause`.
static LAST_LOCATION: Mutex<Option<String>> = Mutex::new(None);

/// Marks the current thread as guarded while alive (panics are caught and reported).
struct Guarded;

impl Guarded {
    fn enter() -> Guarded {
        GUARDED.with(|g| g.set(g.get() + 1));
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        Guarded
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        GUARDED.with(|g| g.set(g.get() - 1));
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

fn panic_is_caught() -> bool {
    GUARDED.with(Cell::get) > 0
        || (ACTIVE.load(Ordering::SeqCst) > 0 && rayon::current_thread_index().is_some())
}

/// Install (once per process) a panic hook that stays silent for panics [`run`]/[`guard`]
/// catch and delegates to the previous hook (Rust's default message) for every other panic.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if panic_is_caught() {
                let at = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                if let Ok(mut slot) = LAST_LOCATION.lock() {
                    *slot = at;
                }
            } else {
                previous(info);
            }
        }));
    });
}

/// Convert a grumpy error into the matching `grumpy.<Code>` Python exception, with `.code`,
/// `.cause` and `.fix` attributes (classes live in `grumpy/errors.py`).
pub(crate) fn to_py(e: Error) -> PyErr {
    Python::attach(|py| match make_exc(py, &e) {
        Ok(err) => err,
        Err(fallback) => fallback,
    })
}

fn make_exc(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = py.import("grumpy.errors")?;
    let name = e.code().name();
    let cls = module.getattr(name)?;
    let inst = cls.call1((e.to_string(),))?;
    inst.setattr("code", PyString::new(py, name))?;
    inst.setattr("summary", e.summary())?;
    inst.setattr("cause", e.cause())?;
    inst.setattr("fix", e.fix())?;
    Ok(PyErr::from_value(inst))
}

/// Build and convert an error in one step.
pub(crate) fn err(
    code: Code,
    summary: impl Into<String>,
    cause: impl Into<String>,
    fix: impl Into<String>,
) -> PyErr {
    to_py(Error::new(code, summary, cause, fix))
}

fn panic_error(payload: &(dyn std::any::Any + Send)) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    let at = LAST_LOCATION.lock().ok().and_then(|mut s| s.take());
    let cause = match at {
        Some(at) => format!("{msg} (at {at})"),
        None => msg,
    };
    Error::new(
        Code::Unsupported,
        "internal error in grumpy's Rust core",
        cause,
        "this is a bug: please report it with the code that triggered it",
    )
}

/// Run `f` with the GIL released, catching panics and converting errors. Every binding that
/// does real work without touching Python objects goes through here.
pub(crate) fn run<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> grumpy_core::Result<T> + Send,
) -> PyResult<T> {
    let r = py.detach(|| {
        let _g = Guarded::enter();
        // On this process's pool (rebuilt after fork(): DataLoader workers).
        catch_unwind(AssertUnwindSafe(|| grumpy_core::pool::install(f)))
    });
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(e)),
        Err(p) => Err(to_py(panic_error(&*p))),
    }
}

/// Like [`run`], but `f` runs on a thread of its own while this thread calls `poll` (with the
/// GIL) every `every`: progress bars, Ctrl-C (a pending signal returns its error at once; the
/// work finishes in the background and is dropped).
pub(crate) fn run_polled<T: Send + 'static>(
    py: Python<'_>,
    f: impl FnOnce() -> grumpy_core::Result<T> + Send + 'static,
    every: std::time::Duration,
    mut poll: impl FnMut() -> PyResult<()>,
) -> PyResult<T> {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(|| grumpy_core::pool::install(f)));
        let _ = tx.send(r);
    });
    let mut rx = rx;
    loop {
        // (the receiver moves into the GIL-free closure and back: it is Send, not Sync)
        let (got, back) = py.detach(move || (rx.recv_timeout(every), rx));
        rx = back;
        poll()?;
        match got {
            Ok(Ok(Ok(v))) => return Ok(v),
            Ok(Ok(Err(e))) => return Err(to_py(e)),
            Ok(Err(p)) => return Err(to_py(panic_error(&*p))),
            Err(RecvTimeoutError::Timeout) => py.check_signals()?,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(to_py(grumpy_core::Error::new(
                    grumpy_core::Code::Unsupported,
                    "the worker thread ended without a result",
                    "it stopped unexpectedly",
                    "this is a bug: please report it",
                )))
            }
        }
    }
}

/// Like [`run`] for calls that *wait* on other threads (a stream's next batch): the GIL is
/// released but the call stays on the calling thread. Blocking inside a pool thread would let
/// Rayon's work stealing stack the wait on top of a job the waited-for work needs: a deadlock.
pub(crate) fn run_wait<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> grumpy_core::Result<T> + Send,
) -> PyResult<T> {
    let r = py.detach(|| {
        let _g = Guarded::enter();
        catch_unwind(AssertUnwindSafe(f))
    });
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(to_py(e)),
        Err(p) => Err(to_py(panic_error(&*p))),
    }
}

/// Like [`run`] but keeps the GIL (for work that touches Python objects); still catches panics.
pub(crate) fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    let r = {
        let _g = Guarded::enter();
        catch_unwind(AssertUnwindSafe(f))
    };
    match r {
        Ok(r) => r,
        Err(p) => Err(to_py(panic_error(&*p))),
    }
}

/// Extension trait: `result.py()?` converts a core `Result` into a `PyResult`.
pub(crate) trait IntoPy<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for grumpy_core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// `grumpy._core._test_panic(where)`: panic on purpose, to test the guards and the hook.
/// `where` is `"guard"`, `"run"`, `"rayon"` (a worker thread of a guarded parallel call) or
/// `"unguarded"` (PyO3's own catch: a `PanicException` and the default stderr message).
#[pyfunction]
#[pyo3(name = "_test_panic")]
fn test_panic(py: Python<'_>, r#where: &str) -> PyResult<()> {
    fn boom() -> grumpy_core::Result<()> {
        panic!("deliberate test panic")
    }
    match r#where {
        "guard" => guard(|| boom().py()),
        "run" => run(py, boom),
        "rayon" => run(py, || {
            use rayon::prelude::*;
            (0..4)
                .into_par_iter()
                .try_for_each(|i| if i == 3 { boom() } else { Ok(()) })
        }),
        "unguarded" => boom().py(),
        other => Err(err(
            Code::Argument,
            format!("unknown place {other:?}"),
            "where is 'guard', 'run', 'rayon' or 'unguarded'",
            "pass one of those",
        )),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(test_panic, m)?)?;
    Ok(())
}
