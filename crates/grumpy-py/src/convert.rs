//! Python ⇄ grumpy conversion: nested lists (one walk into a core `Builder`), NumPy buffers
//! (zero copy both ways when contiguous, masks of masked arrays become validity), scalars.
//!
//! What `gr.array` accepts, level by level: lists, tuples and other sequences are rows;
//! `None` is null; bool/int/float/str (and NumPy scalars) are values; NumPy arrays and
//! GrumpyArrays nest like lists. Dicts, sets, bytes and objects without an order are refused
//! with a `DTypeError` that says what to pass instead, and nesting deeper than
//! [`MAX_DEPTH`] is an `ArgumentError` (the walk is recursive and must never reach the end of
//! the stack).

use crate::array::PyGrumpyArray;
use crate::errors::{err, to_py, IntoPy};
use grumpy_core::buffer::{Bitmap, Buf, Native, Values};
use grumpy_core::layout::{too_deep, Builder, Layout, Leaf, List, MAX_DEPTH};
use grumpy_core::{with_values, Array, Code, DType, Scalar};
use numpy::ndarray::ArrayView1;
use numpy::{Element, PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySequence, PySet,
    PyString, PyTuple,
};

/// Keeps the memory behind a NumPy export alive (the array's `base`).
#[pyclass(name = "_BufferOwner", module = "grumpy._core", frozen)]
pub(crate) struct BufferOwner {
    _values: Box<dyn std::any::Any + Send + Sync>,
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

/// Push one Python value (a leaf, null or a nested row) at nesting `depth` (top rows: 1).
fn walk(obj: &Bound<'_, PyAny>, b: &mut Builder, depth: usize) -> PyResult<()> {
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        return b.push_f64(f.value()).py();
    }
    if let Ok(l) = obj.cast_exact::<PyList>() {
        return push_list(l, b, depth);
    }
    walk_slow(obj, b, depth)
}

/// Push an exact `list` row. Items that are lists of exact floats (the xyz of a residue) are
/// pushed through borrowed references, with no reference-count round trip per item; anything
/// else is walked through an owned reference (walking may run Python code, which could drop
/// a borrowed item). The length is re-read every step, as a list iterator does.
fn push_list(l: &Bound<'_, PyList>, b: &mut Builder, depth: usize) -> PyResult<()> {
    if depth >= MAX_DEPTH {
        return Err(to_py(too_deep()));
    }
    // SAFETY: `l` is a live list and the GIL is held.
    if unsafe { push_float_row(l.as_ptr(), b)? } {
        return Ok(());
    }
    let py = l.py();
    let list_type = std::ptr::addr_of_mut!(ffi::PyList_Type);
    b.begin_list();
    let c = b.child();
    let mut i = 0;
    while i < l.len() {
        // SAFETY: `i` is below the current length and no Python code runs before the item is
        // used, so this borrowed reference is to a live item.
        let item = unsafe { ffi::PyList_GetItem(l.as_ptr(), i as ffi::Py_ssize_t) };
        // SAFETY: as above; `push_float_row` runs no Python code.
        let done = unsafe {
            ffi::Py_TYPE(item) == list_type && depth + 1 < MAX_DEPTH && push_float_row(item, c)?
        };
        if !done {
            // SAFETY: `item` is a live borrowed reference; this takes a new strong one.
            let owned = unsafe { Bound::from_borrowed_ptr(py, item) };
            walk(&owned, c, depth + 1)?;
        }
        i += 1;
    }
    b.end_list();
    Ok(())
}

/// Push the list `list` as one row when every item is an exact Python float; `false`
/// (nothing pushed) when some item is not, or the row is empty. Errors are those of the
/// item-by-item walk (a float after strings).
///
/// # Safety
/// `list` must be a live exact `list` and the GIL held. No Python code runs here, so the list
/// and its (borrowed) items cannot change meanwhile.
unsafe fn push_float_row(list: *mut ffi::PyObject, b: &mut Builder) -> PyResult<bool> {
    const ROW: usize = 8;
    // SAFETY: per the contract above; an exact float's `PyFloat_AsDouble` cannot fail.
    unsafe {
        let n = ffi::PyList_Size(list);
        if n <= 0 {
            return Ok(false);
        }
        let n = n as usize;
        let float_type = std::ptr::addr_of_mut!(ffi::PyFloat_Type);
        let item = |i: usize| ffi::PyList_GetItem(list, i as ffi::Py_ssize_t);
        let mut small = [0.0f64; ROW];
        if n <= ROW {
            for (i, v) in small[..n].iter_mut().enumerate() {
                let it = item(i);
                if ffi::Py_TYPE(it) != float_type {
                    return Ok(false);
                }
                *v = ffi::PyFloat_AsDouble(it);
            }
        } else if (0..n).any(|i| ffi::Py_TYPE(item(i)) != float_type) {
            return Ok(false);
        }
        b.begin_list();
        let c = b.child();
        if n <= ROW {
            for &v in &small[..n] {
                c.push_f64(v).py()?;
            }
        } else {
            for i in 0..n {
                c.push_f64(ffi::PyFloat_AsDouble(item(i))).py()?;
            }
        }
        b.end_list();
    }
    Ok(true)
}

/// Push a list row made of `items`.
fn push_row<'py>(
    items: impl Iterator<Item = Bound<'py, PyAny>>,
    b: &mut Builder,
    depth: usize,
) -> PyResult<()> {
    if depth >= MAX_DEPTH {
        return Err(to_py(too_deep()));
    }
    b.begin_list();
    let c = b.child();
    for item in items {
        walk(&item, c, depth + 1)?;
    }
    b.end_list();
    Ok(())
}

/// Push a Python int of any size.
fn push_int(i: &Bound<'_, PyInt>, b: &mut Builder) -> PyResult<()> {
    if let Ok(v) = i.extract::<i64>() {
        return b.push_i64(v).py();
    }
    if let Ok(v) = i.extract::<i128>() {
        return b.push_int(v).py();
    }
    let approx = match i.extract::<f64>() {
        Ok(f) => f,
        Err(_) if i.lt(0)? => f64::NEG_INFINITY,
        Err(_) => f64::INFINITY,
    };
    b.push_huge_int(approx).py()
}

fn refuse(obj: &Bound<'_, PyAny>, what: &str, fix: &str) -> PyErr {
    err(
        Code::DType,
        format!("cannot store a {} in a grumpy array", type_name(obj)),
        what.to_owned(),
        fix.to_owned(),
    )
}

/// Refuse containers that look like rows but are not ordered rows of values.
fn check_not_unordered(obj: &Bound<'_, PyAny>) -> PyResult<()> {
    if obj.cast::<PyDict>().is_ok() {
        return Err(refuse(
            obj,
            "a dict is not a row: its keys and values have no place in a nested array",
            "pass list(d.values()), or build a dataframe: gr.dataframe(d)",
        ));
    }
    if obj.cast::<PySet>().is_ok() || obj.cast::<PyFrozenSet>().is_ok() {
        return Err(refuse(
            obj,
            "a set has no order, so it cannot be a row",
            "pass sorted(s) or list(s)",
        ));
    }
    if obj.cast::<PyBytes>().is_ok() || obj.cast::<PyByteArray>().is_ok() {
        return Err(refuse(
            obj,
            "bytes are neither text nor a row of numbers to grumpy",
            "decode text with b.decode(), or pass numbers with list(b) or np.frombuffer(b, np.uint8)",
        ));
    }
    Ok(())
}

fn walk_slow(obj: &Bound<'_, PyAny>, b: &mut Builder, depth: usize) -> PyResult<()> {
    if obj.is_none() {
        b.push_null();
        return Ok(());
    }
    if let Ok(x) = obj.cast::<PyBool>() {
        return b.push_bool(x.is_true()).py();
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return push_int(i, b);
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return b.push_f64(f.value()).py();
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return b.push_str(&s.to_cow()?).py();
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return push_row(t.iter(), b, depth);
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return push_row(l.iter(), b, depth);
    }
    check_not_unordered(obj)?;
    if let Ok(g) = obj.cast::<PyGrumpyArray>() {
        let rows = rows_to_py(obj.py(), &g.borrow().inner.layout)?;
        return push_row(rows.iter(), b, depth);
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        // 0-d arrays (and np.ma.masked) become their value (None when masked); others rows
        return walk(&arr.call_method0("tolist")?, b, depth);
    }
    if is_numpy_scalar(obj)? {
        // np.float32(1.5), np.int64(3), np.bool_(True), ...
        return walk(&obj.call_method0("item")?, b, depth);
    }
    if obj.hasattr("__array__")? {
        // array-likes (torch tensors, pandas Series, ...) go through NumPy
        let a = obj.py().import("numpy")?.call_method1("asarray", (obj,))?;
        return walk(&a, b, depth);
    }
    if let Ok(seq) = obj.cast::<PySequence>() {
        let items = (0..seq.len()?)
            .map(|i| seq.get_item(i))
            .collect::<PyResult<Vec<_>>>()?;
        return push_row(items.into_iter(), b, depth);
    }
    if obj.hasattr("__iter__")? {
        let l = obj
            .py()
            .import("builtins")?
            .getattr("list")?
            .call1((obj,))?;
        return walk(&l, b, depth);
    }
    Err(refuse(
        obj,
        "leaves must be bool, int, float, str or None; rows must be lists or tuples",
        "convert the value first (e.g. float(x) or str(x))",
    ))
}

fn is_numpy_scalar(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(obj.hasattr("dtype")? && obj.hasattr("item")? && !obj.hasattr("__len__")?)
}

/// Build an array from any supported Python object (see the module docs).
pub(crate) fn from_py(obj: &Bound<'_, PyAny>, dtype: Option<DType>) -> PyResult<Array> {
    if let Ok(g) = obj.cast::<PyGrumpyArray>() {
        let a = g.borrow().inner.clone();
        return match dtype {
            Some(d) if d != a.dtype() => a.astype(d).py(),
            _ => Ok(a),
        };
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        return from_numpy(arr, dtype);
    }
    let rows: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        if obj.cast::<PyString>().is_ok()
            || obj.cast::<PyInt>().is_ok()
            || obj.cast::<PyFloat>().is_ok()
            || obj.is_none()
            || is_numpy_scalar(obj)?
        {
            return Err(err(
                Code::Argument,
                format!(
                    "gr.array needs a sequence of rows, got a {}",
                    type_name(obj)
                ),
                "a grumpy array is a sequence of rows; a single value is not one",
                "wrap the value in a list: gr.array([x])",
            ));
        }
        check_not_unordered(obj)?;
        if obj.hasattr("__array__")? {
            let a = obj.py().import("numpy")?.call_method1("asarray", (obj,))?;
            return from_numpy(a.cast::<PyUntypedArray>()?, dtype);
        }
        if !(obj.cast::<PySequence>().is_ok() || obj.hasattr("__len__")?) {
            return Err(err(
                Code::Argument,
                format!("gr.array needs a sequence, got {}", type_name(obj)),
                "a grumpy array is a sequence of rows",
                "pass a (nested) list, a tuple, a NumPy array or a GrumpyArray",
            ));
        }
        let l = obj
            .py()
            .import("builtins")?
            .getattr("list")?
            .call1((obj,))?;
        l.cast::<PyList>()?.iter().collect()
    };
    let mut b = Builder::new();
    for item in &rows {
        walk(item, &mut b, 1)?;
    }
    Ok(Array::new(b.finish(dtype).py()?))
}

fn foreign<T: Element + Native>(arr: &Bound<'_, PyUntypedArray>) -> PyResult<Values> {
    let typed = arr.cast::<PyArrayDyn<T>>()?;
    let len = typed.len();
    let ptr = typed.data() as *const T;
    let owner: Py<PyAny> = arr.clone().into_any().unbind();
    // SAFETY: the array is C-contiguous (checked by the caller), aligned (NumPy's allocator
    // aligns to the item size; `is_aligned` checked by the caller) and `owner` keeps it alive.
    let buf = unsafe { Buf::from_foreign(ptr, len, Box::new(owner)) };
    Ok(T::wrap(buf))
}

fn unsupported_numpy(kind: char, name: &str) -> PyErr {
    let (cause, fix) = match kind {
        'V' => (
            "structured (record) arrays hold several fields per element",
            "pass the fields as columns: gr.dataframe({n: a[n] for n in a.dtype.names})",
        ),
        'c' => (
            "grumpy has no complex dtype",
            "pass the real and imaginary parts as two arrays (a.real, a.imag)",
        ),
        'M' | 'm' => (
            "grumpy has no datetime dtype",
            "pass integer ticks, e.g. a.astype('int64')",
        ),
        'S' => (
            "bytes strings are not text",
            "decode them first: a.astype(str)",
        ),
        _ => (
            "grumpy supports bool, int8..int64, uint8..uint64, float32, float64 and string",
            "cast first, e.g. a.astype(np.float32) for float16",
        ),
    };
    err(
        Code::DType,
        format!("cannot convert a NumPy array of dtype {name}"),
        cause,
        fix,
    )
}

/// A NumPy bool array as a `Vec<bool>` (any layout).
fn numpy_bools(obj: &Bound<'_, PyAny>) -> PyResult<Vec<bool>> {
    let np = obj.py().import("numpy")?;
    let flat = np
        .call_method1("ascontiguousarray", (obj, "bool"))?
        .call_method0("ravel")?;
    let typed = flat.cast::<PyArrayDyn<bool>>()?;
    let ro = typed.readonly();
    Ok(ro.as_slice()?.to_vec())
}

/// Conversion of a NumPy array; zero copy when it is contiguous, aligned and native-endian
/// (else one contiguous copy). Trailing axes become regular lists; the mask of a masked array
/// becomes the validity of the values.
pub(crate) fn from_numpy(arr: &Bound<'_, PyUntypedArray>, dtype: Option<DType>) -> PyResult<Array> {
    let py = arr.py();
    let np = py.import("numpy")?;
    let kind: char = arr.dtype().getattr("kind")?.extract()?;
    let name: String = arr.dtype().getattr("name")?.extract()?;
    let shape: Vec<usize> = arr.shape().to_vec();
    if shape.is_empty() {
        return Err(err(
            Code::Argument,
            "gr.array needs at least one dimension",
            "got a 0-d NumPy array",
            "wrap the value in a list: gr.array([x])",
        ));
    }
    if matches!(kind, 'U' | 'O') {
        // strings and objects go through Python values (masked entries become None)
        return from_py(&arr.call_method0("tolist")?, dtype);
    }
    let src = match kind {
        'b' | 'i' | 'u' | 'f' => DType::parse(&name).map_err(|_| unsupported_numpy(kind, &name))?,
        _ => return Err(unsupported_numpy(kind, &name)),
    };
    let ma = np.getattr("ma")?;
    let is_masked = arr.is_instance(&ma.getattr("MaskedArray")?)?;
    let mut a: Bound<'_, PyAny> = if is_masked {
        arr.getattr("data")?
    } else {
        arr.clone().into_any()
    };
    let validity = if is_masked {
        let mask = numpy_bools(&ma.call_method1("getmaskarray", (arr,))?)?;
        mask.iter()
            .any(|&m| m)
            .then(|| Bitmap::from_bools(&mask.iter().map(|&m| !m).collect::<Vec<_>>()))
    } else {
        None
    };
    let flags = a.getattr("flags")?;
    let contiguous: bool = flags.getattr("c_contiguous")?.extract()?;
    let aligned: bool = flags.getattr("aligned")?.extract()?;
    let native: bool = a.getattr("dtype")?.getattr("isnative")?.extract()?;
    if !contiguous || !aligned || !native {
        a = np.call_method1("ascontiguousarray", (a,))?;
        if !native {
            let nd = a.getattr("dtype")?.call_method1("newbyteorder", ("=",))?;
            a = a.call_method1("astype", (nd,))?;
        }
    }
    let ua = a.cast::<PyUntypedArray>()?;
    let values = match src {
        DType::Bool => foreign::<bool>(ua)?,
        DType::Int8 => foreign::<i8>(ua)?,
        DType::Int16 => foreign::<i16>(ua)?,
        DType::Int32 => foreign::<i32>(ua)?,
        DType::Int64 => foreign::<i64>(ua)?,
        DType::UInt8 => foreign::<u8>(ua)?,
        DType::UInt16 => foreign::<u16>(ua)?,
        DType::UInt32 => foreign::<u32>(ua)?,
        DType::UInt64 => foreign::<u64>(ua)?,
        DType::Float32 => foreign::<f32>(ua)?,
        DType::Float64 => foreign::<f64>(ua)?,
        DType::String => return Err(unsupported_numpy(kind, &name)),
    };
    let layout = regular_lists(Layout::Leaf(Leaf::new(values, validity)), &shape);
    let out = Array::new(layout);
    match dtype {
        Some(d) if d != src => out.astype(d).py(),
        _ => Ok(out),
    }
}

/// Wrap flat values in regular list levels for the trailing axes of `shape`.
pub(crate) fn regular_lists(mut layout: Layout, shape: &[usize]) -> Layout {
    for k in (1..shape.len()).rev() {
        let inner = shape[k] as i64;
        let n: usize = shape[..k].iter().product();
        layout = Layout::List(List::new(Buf::arithmetic(n, inner), None, layout));
    }
    layout
}

/// A scalar as a Python object.
pub(crate) fn scalar_to_py<'py>(py: Python<'py>, s: &Scalar) -> PyResult<Bound<'py, PyAny>> {
    Ok(match s {
        Scalar::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Scalar::Int(i) => i.into_pyobject(py)?.into_any(),
        Scalar::UInt(u) => u.into_pyobject(py)?.into_any(),
        Scalar::Float(f) => PyFloat::new(py, *f).into_any(),
        Scalar::Str(s) => PyString::new(py, s).into_any(),
        Scalar::Null => py.None().into_bound(py),
    })
}

/// Values `r` of a leaf as a Python list (None for nulls), built straight from the buffer.
fn leaf_range_to_py<'py>(
    py: Python<'py>,
    leaf: &Leaf,
    r: std::ops::Range<usize>,
) -> PyResult<Bound<'py, PyList>> {
    if leaf.validity.is_none() {
        return with_values!(&leaf.values, b, T => {
            let s = &b.as_slice()[r];
            match T::DTYPE {
                DType::Float32 | DType::Float64 => PyList::new(py, s.iter().map(|x| x.to_f64())),
                DType::Bool => PyList::new(py, s.iter().map(|x| x.to_i64() != 0)),
                DType::UInt64 => PyList::new(py, s.iter()
                    .map(|x| scalar_to_py(py, &x.to_scalar()).map(Bound::unbind))
                    .collect::<PyResult<Vec<_>>>()?),
                _ => PyList::new(py, s.iter().map(|x| x.to_i64())),
            }
        }, _s => PyList::new(py, r.map(|i| leaf.values.str_at(i))));
    }
    let items = r
        .map(|i| leaf_item(py, leaf, i).map(Bound::unbind))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

fn leaf_item<'py>(py: Python<'py>, leaf: &Leaf, i: usize) -> PyResult<Bound<'py, PyAny>> {
    if leaf.is_null(i) {
        return Ok(py.None().into_bound(py));
    }
    scalar_to_py(py, &leaf.values.scalar_at(i))
}

/// Row `i` of a layout as a Python object.
pub(crate) fn row_to_py<'py>(
    py: Python<'py>,
    layout: &Layout,
    i: usize,
) -> PyResult<Bound<'py, PyAny>> {
    match layout {
        Layout::Leaf(l) => leaf_item(py, l, i),
        Layout::List(l) => {
            if l.is_null(i) {
                return Ok(py.None().into_bound(py));
            }
            range_to_py(py, &l.child, l.row_range(i)).map(Bound::into_any)
        }
        Layout::Union(u) => {
            let j = u.index[i] as usize;
            if u.tags[i] == 0 {
                row_to_py(py, &u.scalar, j)
            } else {
                row_to_py(py, &u.list, j)
            }
        }
    }
}

fn range_to_py<'py>(
    py: Python<'py>,
    layout: &Layout,
    r: std::ops::Range<usize>,
) -> PyResult<Bound<'py, PyList>> {
    if let Layout::Leaf(l) = layout {
        return leaf_range_to_py(py, l, r);
    }
    let items = r
        .map(|i| row_to_py(py, layout, i).map(Bound::unbind))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// All rows as a Python list.
pub(crate) fn rows_to_py<'py>(py: Python<'py>, layout: &Layout) -> PyResult<Bound<'py, PyList>> {
    range_to_py(py, layout, 0..layout.len())
}

fn export<'py, T: Element + Native>(
    py: Python<'py>,
    b: &Buf<T>,
    keep: Box<dyn std::any::Any + Send + Sync>,
) -> PyResult<Bound<'py, PyAny>> {
    let view = ArrayView1::from(b.as_slice());
    let owner = Bound::new(py, BufferOwner { _values: keep })?;
    // SAFETY: `owner` holds a clone of the buffer's Arc, so the memory outlives the NumPy array,
    // and shared grumpy buffers are never written in place (copy-on-write), so marking the
    // export read-only keeps both sides consistent.
    let arr = unsafe { PyArray1::<T>::borrow_from_array(&view, owner.into_any()) };
    arr.call_method1("setflags", (false,))?;
    Ok(arr.into_any())
}

/// A leaf buffer as a read-only NumPy array sharing memory (strings: a NumPy `str` array copy).
pub(crate) fn values_to_numpy<'py>(py: Python<'py>, v: &Values) -> PyResult<Bound<'py, PyAny>> {
    let keep: Box<dyn std::any::Any + Send + Sync> = Box::new(v.clone());
    with_values!(v, b, T => export::<T>(py, b, keep), _s => {
        let items = PyList::new(py, (0..v.len()).map(|i| v.str_at(i)))?;
        py.import("numpy")?.call_method1("array", (items, "str"))
    })
}

/// An i64 buffer as a read-only NumPy array sharing memory.
pub(crate) fn i64_to_numpy<'py>(py: Python<'py>, b: &Buf<i64>) -> PyResult<Bound<'py, PyAny>> {
    export::<i64>(py, b, Box::new(b.clone()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<BufferOwner>()?;
    Ok(())
}

/// Row `i` as an owned Python object; list rows become `GrumpyArray`s (iteration semantics).
pub(crate) fn row_to_py_obj(py: Python<'_>, layout: &Layout, i: usize) -> PyResult<Py<PyAny>> {
    let sub = match layout {
        Layout::List(l) if !l.is_null(i) => {
            Some(l.child.slice(l.offsets[i] as usize, l.row_len(i)))
        }
        Layout::Union(u) if u.tags[i] == 1 && !u.is_null(i) => {
            let Layout::List(l) = &*u.list else {
                unreachable!()
            };
            let j = u.index[i] as usize;
            Some(l.child.slice(l.offsets[j] as usize, l.row_len(j)))
        }
        _ => None,
    };
    match sub {
        Some(s) => Ok(Py::new(py, PyGrumpyArray::new(Array::new(s)))?.into_any()),
        None => Ok(row_to_py(py, layout, i)?.unbind()),
    }
}
