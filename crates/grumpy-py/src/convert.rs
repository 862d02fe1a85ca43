//! Python ⇄ grumpy conversion: nested lists (one walk into a core `Builder`), NumPy buffers
//! (zero copy both ways when contiguous), scalars.

use crate::array::PyGrumpyArray;
use crate::errors::{err, IntoPy};
use grumpy_core::buffer::{Buf, Native, Values};
use grumpy_core::layout::{Builder, Layout, Leaf, List};
use grumpy_core::{with_values, Array, Code, DType, Scalar};
use numpy::ndarray::ArrayView1;
use numpy::{Element, PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PySequence, PyString, PyTuple};

/// Keeps the memory behind a NumPy export alive (the array's `base`).
#[pyclass(name = "_BufferOwner", module = "grumpy._core", frozen)]
pub(crate) struct BufferOwner {
    _values: Box<dyn std::any::Any + Send + Sync>,
}

fn walk(obj: &Bound<'_, PyAny>, b: &mut Builder) -> PyResult<()> {
    if let Ok(f) = obj.cast_exact::<PyFloat>() {
        b.push_f64(f.value());
        return Ok(());
    }
    if let Ok(l) = obj.cast_exact::<PyList>() {
        b.begin_list();
        let c = b.child();
        for item in l.iter() {
            walk(&item, c)?;
        }
        b.end_list();
        return Ok(());
    }
    walk_slow(obj, b)
}

fn walk_slow(obj: &Bound<'_, PyAny>, b: &mut Builder) -> PyResult<()> {
    if obj.is_none() {
        b.push_null();
    } else if let Ok(x) = obj.cast::<PyBool>() {
        b.push_bool(x.is_true()).py()?;
    } else if let Ok(i) = obj.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(v) => b.push_i64(v).py()?,
            Err(_) => {
                let u: u64 = i.extract().map_err(|_| {
                    err(
                        Code::DType,
                        "integer out of range",
                        format!(
                            "{} does not fit in 64 bits",
                            i.repr().map(|r| r.to_string()).unwrap_or_default()
                        ),
                        "use floats or smaller integers",
                    )
                })?;
                b.push_scalar(&Scalar::UInt(u)).py()?;
            }
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        b.push_f64(f.value());
    } else if let Ok(s) = obj.cast::<PyString>() {
        b.push_str(&s.to_cow()?).py()?;
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        b.begin_list();
        let c = b.child();
        for item in t.iter() {
            walk(&item, c)?;
        }
        b.end_list();
    } else if let Ok(l) = obj.cast::<PyList>() {
        b.begin_list();
        let c = b.child();
        for item in l.iter() {
            walk(&item, c)?;
        }
        b.end_list();
    } else if let Ok(g) = obj.cast::<PyGrumpyArray>() {
        let rows = rows_to_py(obj.py(), &g.borrow().inner.layout)?;
        walk(&rows.into_any(), b)?;
    } else if obj.hasattr("dtype")? && obj.hasattr("item")? && !obj.hasattr("__len__")? {
        // NumPy scalar (np.float32(1.5), np.int64(3), np.bool_(True), ...)
        walk(&obj.call_method0("item")?, b)?;
    } else if let Ok(seq) = obj.cast::<PySequence>() {
        b.begin_list();
        let c = b.child();
        for i in 0..seq.len()? {
            walk(&seq.get_item(i)?, c)?;
        }
        b.end_list();
    } else if obj.hasattr("__array__")? || obj.hasattr("__iter__")? {
        let l = obj
            .py()
            .import("builtins")?
            .getattr("list")?
            .call1((obj,))?;
        walk(&l, b)?;
    } else {
        return Err(err(
            Code::DType,
            format!(
                "cannot store a {} in a grumpy array",
                obj.get_type().name()?
            ),
            "leaves must be bool, int, float, str or None; rows must be lists or tuples",
            "convert the value first (e.g. float(x))",
        ));
    }
    Ok(())
}

/// Build an array from any supported Python object.
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
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() || obj.hasattr("__len__")? {
        let mut b = Builder::new();
        if let Ok(l) = obj.cast::<PyList>() {
            for item in l.iter() {
                walk(&item, &mut b)?;
            }
        } else {
            let seq = obj
                .py()
                .import("builtins")?
                .getattr("list")?
                .call1((obj,))?;
            for item in seq.cast::<PyList>()?.iter() {
                walk(&item, &mut b)?;
            }
        }
        return Ok(Array::new(b.finish(dtype).py()?));
    }
    Err(err(
        Code::Argument,
        format!("gr.array needs a sequence, got {}", obj.get_type().name()?),
        "a grumpy array is a sequence of rows",
        "pass a (nested) list, a tuple, a NumPy array or a GrumpyArray",
    ))
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

/// Zero-copy conversion of a contiguous NumPy array; trailing axes become regular lists.
pub(crate) fn from_numpy(arr: &Bound<'_, PyUntypedArray>, dtype: Option<DType>) -> PyResult<Array> {
    let py = arr.py();
    let np = py.import("numpy")?;
    let kind: String = arr.dtype().getattr("kind")?.extract()?;
    let shape: Vec<usize> = arr.shape().to_vec();
    if matches!(kind.as_str(), "U" | "S" | "O") || shape.is_empty() {
        let lst = arr.call_method0("tolist")?;
        if shape.is_empty() {
            return Err(err(
                Code::Argument,
                "gr.array needs at least one dimension",
                "got a 0-d NumPy array",
                "wrap the value in a list: gr.array([x])",
            ));
        }
        return from_py(&lst, dtype);
    }
    let mut a: Bound<'_, PyAny> = arr.clone().into_any();
    let flags = arr.getattr("flags")?;
    let contiguous: bool = flags.getattr("c_contiguous")?.extract()?;
    let aligned: bool = flags.getattr("aligned")?.extract()?;
    let native: bool = arr.dtype().getattr("isnative")?.extract()?;
    if !contiguous || !aligned || !native {
        a = np.call_method1("ascontiguousarray", (a,))?;
        if !native {
            let nd = arr.dtype().call_method1("newbyteorder", ("=",))?;
            a = a.call_method1("astype", (nd,))?;
        }
    }
    let ua = a.cast::<PyUntypedArray>()?;
    let name: String = ua.dtype().getattr("name")?.extract()?;
    let src = DType::parse(&name).py()?;
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
        DType::String => unreachable!("strings handled above"),
    };
    let mut layout = Layout::Leaf(Leaf::valid(values));
    for k in (1..shape.len()).rev() {
        let inner = shape[k] as i64;
        let n: usize = shape[..k].iter().product();
        let offsets: Vec<i64> = (0..=n as i64).map(|i| i * inner).collect();
        layout = Layout::List(List::new(Buf::from_vec(offsets), None, layout));
    }
    let out = Array::new(layout);
    match dtype {
        Some(d) if d != src => out.astype(d).py(),
        _ => Ok(out),
    }
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

fn leaf_range_to_py<'py>(
    py: Python<'py>,
    leaf: &Leaf,
    r: std::ops::Range<usize>,
) -> PyResult<Bound<'py, PyList>> {
    if leaf.validity.is_none() {
        let list = with_values!(&leaf.values, b, T => {
            let s = &b.as_slice()[r];
            match T::DTYPE {
                DType::Float32 | DType::Float64 => PyList::new(py, s.iter().map(|x| x.to_f64()))?,
                DType::Bool => PyList::new(py, s.iter().map(|x| x.to_i64() != 0))?,
                DType::UInt64 => PyList::new(py, s.iter().map(|&x| crate::convert::scalar_to_py(py, &x.to_scalar()).map(|o| o.unbind())).collect::<PyResult<Vec<_>>>()?)?,
                _ => PyList::new(py, s.iter().map(|x| x.to_i64()))?,
            }
        }, _s => PyList::new(py, r.map(|i| leaf.values.str_at(i)))?);
        return Ok(list);
    }
    let items = r
        .map(|i| leaf_item(py, leaf, i).map(|o| o.unbind()))
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
