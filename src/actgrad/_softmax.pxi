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
    with nogil:
        rc = ag_softmax(op, outer, n, inner, &A, pb, &O)
    if rc:
        raise MemoryError("actgrad: out of memory in the softmax driver")


def softmax_last(int op, cnp.ndarray a, object b, object out, bint keepdims=False):
    """ag_softmax along the last axis of a non-empty C-contiguous float32/float64 array a
    (of at least one axis) and b (None, or a's dtype and shape), into out: None (a new array
    is allocated), or C-contiguous of a's dtype and of the result's shape (a's; for
    logsumexp a's without the last axis, or with 1 there when keepdims).  Returns out."""
    cdef int nd = cnp.PyArray_NDIM(a), rc
    cdef Py_ssize_t size = cnp.PyArray_ITEMSIZE(a), n = cnp.PyArray_DIM(a, nd - 1)
    cdef Py_ssize_t outer = cnp.PyArray_SIZE(a) // n
    cdef cnp.npy_intp dims[64]   # NPY_MAXDIMS
    cdef ag_sm_array A, B, O
    cdef const ag_sm_array *pb = NULL
    if out is None:
        if op == AG_LOGSUMEXP:
            memcpy(dims, cnp.PyArray_DIMS(a), nd * sizeof(cnp.npy_intp))
            dims[nd - 1] = 1
            out = cnp.PyArray_EMPTY(nd if keepdims else nd - 1, dims, cnp.PyArray_TYPE(a), 0)
        else:
            out = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
    A.data = <char *>cnp.PyArray_DATA(a)
    A.so, A.sk, A.si = n * size, size, size
    A.dtype = AG_FLOAT32 if size == 4 else AG_FLOAT64
    if b is not None:
        B = A
        B.data = <char *>cnp.PyArray_DATA(<cnp.ndarray>b)
        pb = &B
    O = A
    O.data = <char *>cnp.PyArray_DATA(<cnp.ndarray>out)
    if op == AG_LOGSUMEXP:
        O.so, O.si = size, 0
    with nogil:
        rc = ag_softmax(op, outer, n, 1, &A, pb, &O)
    if rc:
        raise MemoryError("actgrad: out of memory in the softmax driver")
    return out


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
