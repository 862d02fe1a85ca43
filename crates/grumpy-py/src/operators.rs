//! The arithmetic and bitwise operators shared by `GrumpyArray` and `DataFrame`.

/// A `#[pymethods]` block with `__add__`/`__radd__` ... `__xor__`/`__rxor__` for `$ty`, each a
/// call of `$op2(py, BinaryOp::<op>, self, other, reflected)`. It generates the whole block
/// because PyO3 must see every method (a macro cannot expand inside `#[pymethods]`).
macro_rules! binary_operators {
    ($ty:ty, $op2:path) => {
        $crate::operators::binary_operators!(@impl $ty, $op2,
            __add__ __radd__ Add, __sub__ __rsub__ Sub, __mul__ __rmul__ Mul,
            __truediv__ __rtruediv__ Div, __floordiv__ __rfloordiv__ FloorDiv,
            __mod__ __rmod__ Rem, __and__ __rand__ And, __or__ __ror__ Or,
            __xor__ __rxor__ Xor);
    };
    (@impl $ty:ty, $op2:path, $($name:ident $rname:ident $op:ident),*) => {
        #[pymethods]
        impl $ty {
            $(
                fn $name(
                    &self,
                    py: Python<'_>,
                    o: &Bound<'_, PyAny>,
                ) -> PyResult<Py<PyAny>> {
                    $op2(py, grumpy_core::kernels::elementwise::BinaryOp::$op, self, o, false)
                }
                fn $rname(
                    &self,
                    py: Python<'_>,
                    o: &Bound<'_, PyAny>,
                ) -> PyResult<Py<PyAny>> {
                    $op2(py, grumpy_core::kernels::elementwise::BinaryOp::$op, self, o, true)
                }
            )*
        }
    };
}

pub(crate) use binary_operators;
