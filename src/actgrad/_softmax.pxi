# Bindings of the softmax-family driver (csrc/include/ag_softmax.h), included by _core.pyx.
# Argument conversion only; the checks are in _softmax.py, the arithmetic in C.

cdef extern from "actgrad.h" nogil:
    ctypedef struct ag_sm_array:
        char *data
        Py_ssize_t so, sk, si
        int dtype
    int AG_SOFTMAX, AG_LOG_SOFTMAX, AG_LOGSUMEXP, AG_SOFTMAX_BACKWARD, AG_LOG_SOFTMAX_BACKWARD
    int ag_softmax(int op, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner,
                   const ag_sm_array *a, const ag_sm_array *b, const ag_sm_array *out)

SOFTMAX_OPS = {"softmax": AG_SOFTMAX, "log_softmax": AG_LOG_SOFTMAX, "logsumexp": AG_LOGSUMEXP,
               "softmax_backward": AG_SOFTMAX_BACKWARD,
               "log_softmax_backward": AG_LOG_SOFTMAX_BACKWARD}

cdef dict _AG_DTYPES = {num: code for num, code in _loop_dtypes()}


cdef int _sm_array(ag_sm_array *s, cnp.ndarray arr, tuple strides) except -1:
    s.data = <char *>cnp.PyArray_DATA(arr)
    s.so, s.sk, s.si = strides
    s.dtype = _AG_DTYPES[cnp.PyArray_TYPE(arr)]
    return 0


def softmax_run(int op, Py_ssize_t outer, Py_ssize_t n, Py_ssize_t inner,
                cnp.ndarray a, tuple a_strides, cnp.ndarray b, tuple b_strides,
                cnp.ndarray out, tuple out_strides):
    """ag_softmax on arrays viewed as (outer, n, inner) with the given byte strides
    (so, sk, si) of element (0, ..., 0); b is None for the forward ops."""
    cdef ag_sm_array A, B, O
    cdef const ag_sm_array *pb = NULL
    cdef int rc
    _sm_array(&A, a, a_strides)
    if b is not None:
        _sm_array(&B, b, b_strides)
        pb = &B
    _sm_array(&O, out, out_strides)
    cdef PyThreadState *state = _release_gil(outer * n * inner)
    rc = ag_softmax(op, outer, n, inner, &A, pb, &O)
    _retake_gil(state)
    if rc:
        raise MemoryError("actgrad: out of memory in the softmax driver")


def softmax_last(int op, object a, object b, object out, object axis, bint keepdims=False):
    """ag_softmax along the last axis (axis an int, -1 or ndim - 1) of a and b (None for
    the forward ops), into out (None: a new array); returns out (a NumPy scalar for a 0-d
    logsumexp of a new array), or None, having done nothing, unless those are laid out for
    C to use in place: a C-contiguous float32/float64 ndarray of at least one axis, b like
    it, and out None or writeable, C-contiguous, of a's dtype and of the result's shape (a's;
    for logsumexp a's without the last axis, or with 1 there when keepdims), one of a and b
    or apart from them (never a for logsumexp)."""
    cdef object descr
    if type(axis) is not int:
        return None
    if _c_rows(a, _F32_DESCR):
        descr = _F32_DESCR
    elif _c_rows(a, _F64_DESCR):
        descr = _F64_DESCR
    else:
        return None
    cdef cnp.ndarray x = <cnp.ndarray>a
    cdef int nd = cnp.PyArray_NDIM(x), rc, d
    cdef bint lse = op == AG_LOGSUMEXP
    if not (axis == -1 or axis == nd - 1):
        return None
    if b is not None and not (_c_rows(b, descr) and _same_shape(x, <cnp.ndarray>b)):
        return None
    cdef Py_ssize_t size = cnp.PyArray_ITEMSIZE(x), n = cnp.PyArray_DIM(x, nd - 1), outer = 1
    for d in range(nd - 1):
        outer *= cnp.PyArray_DIM(x, d)
    cdef cnp.npy_intp dims[64]   # NPY_MAXDIMS
    memcpy(dims, cnp.PyArray_DIMS(x), nd * sizeof(cnp.npy_intp))
    cdef int rnd = nd
    cdef bint scalar = False
    if lse:
        dims[nd - 1] = 1
        rnd = nd if keepdims else nd - 1
    if out is None:
        out = cnp.PyArray_EMPTY(rnd, dims, cnp.PyArray_TYPE(x), 0)
        scalar = rnd == 0
    else:
        if not (_exact(out, descr) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>out)
                and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out) and cnp.PyArray_NDIM(<cnp.ndarray>out) == rnd):
            return None
        for d in range(rnd):
            if cnp.PyArray_DIM(<cnp.ndarray>out, d) != dims[d]:
                return None
        if lse and out is a or not (_writable_over(out, a) and _writable_over(out, b)):
            return None
    cdef ag_sm_array A, B, O
    cdef const ag_sm_array *pb = NULL
    A.data = <char *>cnp.PyArray_DATA(x)
    A.so, A.sk, A.si = n * size, size, size
    A.dtype = AG_FLOAT32 if size == 4 else AG_FLOAT64
    if b is not None:
        B = A
        B.data = <char *>cnp.PyArray_DATA(<cnp.ndarray>b)
        pb = &B
    O = A
    O.data = <char *>cnp.PyArray_DATA(<cnp.ndarray>out)
    if lse:
        O.so, O.si = size, 0
    cdef PyThreadState *state = _release_gil(outer * n)
    rc = ag_softmax(op, outer, n, 1, &A, pb, &O)
    _retake_gil(state)
    if rc:
        raise MemoryError("actgrad: out of memory in the softmax driver")
    return out[()] if scalar else out


# The row kernels of the current ISA (ag_kernel_table.softmax, csrc/include/ag_kernels.h)
# for reductions split over pieces that live apart (actgrad.dask's chunks): the
# statistics of each piece, their combination in order, and the outputs from the
# combined statistics (docs/softmax.md, "Threads and determinism": a long row's pieces).  Operands are C-contiguous
# (rows, n) arrays of float32 or float64, st (rows, 3) float64 arrays {m, S_hi, S_lo}.

cdef extern from "actgrad.h" nogil:
    int AG_SOFTMAX_SCALE
    ctypedef struct ag_softmax_kernels:
        void (*stats)(int keep, Py_ssize_t n, const void *x, void *y, double *st) noexcept nogil
        void (*dot)(Py_ssize_t n, const void *a, const void *b, double *st) noexcept nogil
        void (*combine)(Py_ssize_t k, const double *parts, double *st) noexcept nogil
        void (*apply)(int op, Py_ssize_t n, const void *a, const void *b, const double *st, double m0,
                      void *out) noexcept nogil
        double (*logsumexp)(const double *st) noexcept nogil
    ctypedef struct ag_kernel_table:   # the fields read here
        ag_softmax_kernels softmax[2]
    const ag_kernel_table *ag_kernels()   # those of the SIMD path in use


cdef const ag_softmax_kernels *_sm_k(bint f32) noexcept nogil:
    return &ag_kernels().softmax[0 if f32 else 1]


def softmax_piece_stats(cnp.ndarray a, object b, bint forward):
    """st of each row of a piece: forward (max, sum exp(x - max)); else (0, sum a*b), or
    (0, sum a) when b is None."""
    cdef Py_ssize_t rows = cnp.PyArray_DIM(a, 0), n = cnp.PyArray_DIM(a, 1), r
    cdef Py_ssize_t row = n * cnp.PyArray_ITEMSIZE(a)
    cdef cnp.npy_intp dims[2]
    dims[0], dims[1] = rows, 3
    cdef cnp.ndarray st = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE, 0)
    cdef const ag_softmax_kernels *k = _sm_k(cnp.PyArray_ITEMSIZE(a) == 4)
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>_data(b)
    cdef double *ps = <double *>cnp.PyArray_DATA(st)
    with nogil:
        for r in range(rows):
            if forward:
                k.stats(AG_LOGSUMEXP, n, pa + r * row, NULL, ps + 3 * r)
            else:
                k.dot(n, pa + r * row, NULL if pb == NULL else pb + r * row, ps + 3 * r)
    return st


def softmax_combine(cnp.ndarray parts, bint f32):
    """The st of each row from those of its k pieces, parts (rows, k, 3), combined in order."""
    cdef Py_ssize_t rows = cnp.PyArray_DIM(parts, 0), k = cnp.PyArray_DIM(parts, 1), r
    cdef cnp.npy_intp dims[2]
    dims[0], dims[1] = rows, 3
    cdef cnp.ndarray st = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE, 0)
    cdef const ag_softmax_kernels *kt = _sm_k(f32)
    cdef double *pp = <double *>cnp.PyArray_DATA(parts)
    cdef double *ps = <double *>cnp.PyArray_DATA(st)
    with nogil:
        for r in range(rows):
            kt.combine(k, pp + 3 * k * r, ps + 3 * r)
    return st


def softmax_piece_apply(int op, cnp.ndarray a, object b, cnp.ndarray st, cnp.ndarray out):
    """out = op's output (AG_SOFTMAX, AG_LOG_SOFTMAX, the backward ops) of each row of a
    piece given its row's combined st."""
    cdef Py_ssize_t rows = cnp.PyArray_DIM(a, 0), n = cnp.PyArray_DIM(a, 1), r
    cdef Py_ssize_t row = n * cnp.PyArray_ITEMSIZE(a)
    cdef const ag_softmax_kernels *k = _sm_k(cnp.PyArray_ITEMSIZE(a) == 4)
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>_data(b)
    cdef char *po = <char *>cnp.PyArray_DATA(out)
    cdef double *ps = <double *>cnp.PyArray_DATA(st)
    with nogil:
        for r in range(rows):
            k.apply(op, n, pa + r * row, NULL if pb == NULL else pb + r * row, ps + 3 * r, 0.0,
                    po + r * row)


def softmax_stats_logsumexp(cnp.ndarray st, cnp.ndarray out):
    """out[r] = log sum exp of row r from its combined st (out float32 or float64)."""
    cdef Py_ssize_t rows = cnp.PyArray_DIM(st, 0), r
    cdef bint f32 = cnp.PyArray_ITEMSIZE(out) == 4
    cdef const ag_softmax_kernels *k = _sm_k(f32)
    cdef double *ps = <double *>cnp.PyArray_DATA(st)
    cdef float *o32 = <float *>cnp.PyArray_DATA(out)
    cdef double *o64 = <double *>cnp.PyArray_DATA(out)
    with nogil:
        for r in range(rows):
            if f32:
                o32[r] = <float>k.logsumexp(ps + 3 * r)
            else:
                o64[r] = k.logsumexp(ps + 3 * r)
