# cython: language_level=3
"""Thin bindings of the C core (csrc/include/actgrad.h): ufunc construction,
threads and SIMD dispatch.  All arithmetic happens in C."""

from libc.stdlib cimport malloc
from libc.string cimport memcpy
cimport numpy as cnp

cnp.import_array()
cnp.import_ufunc()

cdef extern from "actgrad.h" nogil:
    ctypedef struct ag_loop:
        int op
        int call
        int dtype
    int AG_NOPS
    int AG_BOOL, AG_INT8, AG_UINT8, AG_INT16, AG_UINT16, AG_INT32, AG_UINT32, AG_INT64, AG_UINT64
    int AG_FLOAT16, AG_FLOAT32, AG_FLOAT64
    int AG_BACKWARD, AG_BACKWARD_FROM_OUTPUT
    const char *ag_isa_name()
    const char *ag_isa_registry(int i)
    int ag_isa_supported(const char *name)
    int ag_set_isa(const char *name)
    int ag_op_nparams(int op)
    const char *ag_op_name(int op)
    int ag_loop_out_dtype(const ag_loop *loop)
    void ag_ufunc_loop(char **args, const Py_ssize_t *dimensions, const Py_ssize_t *steps, void *data)
    int ag_get_num_threads()
    void ag_set_num_threads(int n)
    int ag_default_num_threads()
    int AG_MAX_THREADS, AG_THREADS_OK, AG_THREADS_UNSET, AG_THREADS_INVALID, AG_THREADS_CAPPED
    int ag_parse_num_threads(const char *s, int list, int *n)
    const char *ag_threading_backend()

CALLS = ("forward", "derivative", "backward", "derivative_from_output", "backward_from_output")

def _isa_registry():
    cdef int i = 0
    names = []
    while ag_isa_registry(i) != NULL:
        names.append(ag_isa_registry(i).decode())
        i += 1
    return tuple(names)


# The SIMD paths of the C core's ISA registry (csrc/include/ag_isas.h), scalar first.
ISAS = _isa_registry()

# Kernel name -> enum ag_op, read from the C core so the two can never disagree.
OPS = {ag_op_name(i).decode(): i for i in range(AG_NOPS)}


def _loop_dtypes():
    """(NumPy type number, enum ag_dtype) of every input dtype a loop is registered for,
    in NumPy's order of search: bool, the integers, then float16/32/64."""
    cdef list pairs = [(cnp.NPY_BOOL, AG_BOOL), (cnp.NPY_BYTE, AG_INT8), (cnp.NPY_UBYTE, AG_UINT8),
                       (cnp.NPY_SHORT, AG_INT16), (cnp.NPY_USHORT, AG_UINT16)]
    for num, signed in ((cnp.NPY_INT, True), (cnp.NPY_UINT, False), (cnp.NPY_LONG, True),
                        (cnp.NPY_ULONG, False), (cnp.NPY_LONGLONG, True), (cnp.NPY_ULONGLONG, False)):
        size = cnp.PyArray_DescrFromType(num).itemsize
        code = {(4, True): AG_INT32, (4, False): AG_UINT32, (8, True): AG_INT64, (8, False): AG_UINT64}[size, signed]
        pairs.append((num, code))
    pairs += [(cnp.NPY_FLOAT16, AG_FLOAT16), (cnp.NPY_FLOAT, AG_FLOAT32), (cnp.NPY_DOUBLE, AG_FLOAT64)]
    return pairs


cdef dict _OUT_TYPENUM = {AG_FLOAT16: cnp.NPY_FLOAT16, AG_FLOAT32: cnp.NPY_FLOAT, AG_FLOAT64: cnp.NPY_DOUBLE}
cdef list _keep_alive = []   # names and docs the ufuncs point into


def make_ufunc(str kernel, str call, str name, str doc):
    """The NumPy ufunc of one kernel and call.  Its inputs are the arrays (x, or dy
    and x) then the numeric parameters (float64, broadcast like any input)."""
    cdef int op = OPS[kernel]
    cdef int c = CALLS.index(call)
    cdef int narr = 2 if c in (AG_BACKWARD, AG_BACKWARD_FROM_OUTPUT) else 1
    cdef int nparams = ag_op_nparams(op)
    cdef int nin = narr + nparams
    cdef list dtypes = _loop_dtypes()
    cdef int ntypes = len(dtypes)
    cdef cnp.PyUFuncGenericFunction *funcs = <cnp.PyUFuncGenericFunction *>malloc(ntypes * sizeof(cnp.PyUFuncGenericFunction))
    cdef void **data = <void **>malloc(ntypes * sizeof(void *))
    cdef char *types = <char *>malloc(ntypes * (nin + 1))
    cdef ag_loop *loops = <ag_loop *>malloc(ntypes * sizeof(ag_loop))
    if not funcs or not data or not types or not loops:
        raise MemoryError()
    cdef int t, k
    for t in range(ntypes):
        typenum, code = dtypes[t]
        loops[t].op = op
        loops[t].call = c
        loops[t].dtype = code
        funcs[t] = <cnp.PyUFuncGenericFunction>ag_ufunc_loop
        data[t] = &loops[t]
        for k in range(narr):
            types[t * (nin + 1) + k] = typenum
        for k in range(narr, nin):
            types[t * (nin + 1) + k] = cnp.NPY_DOUBLE
        types[t * (nin + 1) + nin] = _OUT_TYPENUM[ag_loop_out_dtype(&loops[t])]
    bname = name.encode()
    bdoc = doc.encode()
    _keep_alive.append((bname, bdoc))
    return cnp.PyUFunc_FromFuncAndData(funcs, data, types, ntypes, nin, 1, cnp.PyUFunc_None,
                                       bname, bdoc, 0)


def get_num_threads():
    return ag_get_num_threads()


def set_num_threads(int n):
    ag_set_num_threads(n)


def default_num_threads():
    return ag_default_num_threads()


MAX_THREADS = AG_MAX_THREADS


def parse_num_threads(str value, bint comma_list):
    """How the C core reads a thread-count variable: ("ok" | "unset" | "invalid" | "capped",
    the count it uses, 0 if none)."""
    cdef int n = 0
    cdef bytes b = value.encode("utf-8", "surrogateescape")
    if b"\0" in b:
        return "invalid", 0
    rc = ag_parse_num_threads(b, comma_list, &n)
    status = {AG_THREADS_OK: "ok", AG_THREADS_UNSET: "unset", AG_THREADS_INVALID: "invalid",
              AG_THREADS_CAPPED: "capped"}[rc]
    return status, n


def threading_backend():
    return ag_threading_backend().decode()


def isa():
    """The SIMD path in use."""
    return ag_isa_name().decode()


def isa_supported(str name):
    return bool(ag_isa_supported(name.encode()))


def set_isa(str name):
    """Use the named SIMD path from now on (tests and benchmarks)."""
    rc = ag_set_isa(name.encode())
    if rc == -1:
        raise ValueError(f"unknown SIMD path {name!r}; expected one of {ISAS}")
    if rc == -2:
        raise ValueError(f"this machine cannot run the {name!r} SIMD path")


# ---- arrays C reads and writes where they are (the usual calls of _softmax.py and _losses.py) ----
# The bindings of those calls take their arrays as the caller passes them and answer None,
# having done nothing, when one is not laid out for C to use in place: then the Python layer
# takes the general path (its argument rules, copies).  Recognising a layout here costs a few
# nanoseconds where NumPy's attributes cost tens each: it is most of a small call's time.

cdef object _F32_DESCR = cnp.PyArray_DescrFromType(cnp.NPY_FLOAT)
cdef object _F64_DESCR = cnp.PyArray_DescrFromType(cnp.NPY_DOUBLE)
cdef object _I64_DESCR = cnp.PyArray_DescrFromType(cnp.NPY_INT64)


cdef inline bint _exact(object a, object descr):
    """a is an ndarray, not a subclass, of dtype descr itself (np.dtype(np.float32), ...:
    native byte order, no metadata)."""
    return type(a) is cnp.ndarray and <object>cnp.PyArray_DESCR(<cnp.ndarray>a) is descr


cdef inline bint _c_rows(object a, object descr):
    """_exact and C-contiguous with at least one axis."""
    return _exact(a, descr) and cnp.PyArray_NDIM(<cnp.ndarray>a) > 0 and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b):
    cdef int nd = cnp.PyArray_NDIM(a), d
    if cnp.PyArray_NDIM(b) != nd:
        return False
    for d in range(nd):
        if cnp.PyArray_DIM(a, d) != cnp.PyArray_DIM(b, d):
            return False
    return True


cdef inline void _extent(cnp.ndarray a, char **lo, char **hi):
    """The bytes [lo, hi) a's elements span (lo == hi when it has none)."""
    cdef int d
    cdef Py_ssize_t n, st
    cdef char *p = <char *>cnp.PyArray_DATA(a)
    lo[0] = hi[0] = p
    if cnp.PyArray_SIZE(a) == 0:
        return
    hi[0] = p + cnp.PyArray_ITEMSIZE(a)
    for d in range(cnp.PyArray_NDIM(a)):
        n, st = cnp.PyArray_DIM(a, d), cnp.PyArray_STRIDE(a, d)
        if st < 0:
            lo[0] += (n - 1) * st
        else:
            hi[0] += (n - 1) * st


cdef inline bint _apart(object a, object b):
    """The bytes the ndarrays a and b span do not intersect (np.may_share_memory's bounds
    test: no shared memory)."""
    cdef char *lo1
    cdef char *hi1
    cdef char *lo2
    cdef char *hi2
    _extent(<cnp.ndarray>a, &lo1, &hi1)
    _extent(<cnp.ndarray>b, &lo2, &hi2)
    return hi1 <= lo2 or hi2 <= lo1 or lo1 == hi1 or lo2 == hi2


# The GIL is released around a C call of more than _NOGIL_MIN elements only (NumPy's ufuncs
# keep it below 500): releasing and taking it back costs about 0.1 us, 5% of a (64, 10)
# cross-entropy with gradient, and a call this small holds it for microseconds (tens at most).
# No Python object is touched between the two calls.
cdef extern from "Python.h":
    ctypedef struct PyThreadState:
        pass
    PyThreadState *PyEval_SaveThread()
    void PyEval_RestoreThread(PyThreadState *state)

cdef enum:
    _NOGIL_MIN = 4096

cdef inline PyThreadState *_release_gil(Py_ssize_t n) noexcept:
    return PyEval_SaveThread() if n > _NOGIL_MIN else NULL


cdef inline void _retake_gil(PyThreadState *state) noexcept:
    if state != NULL:
        PyEval_RestoreThread(state)


cdef inline bint _writable_over(object out, object a):
    """C may write a result into the ndarray out while reading the ndarray a (None: absent):
    out is a (an in-place call: the caller makes sure of the layout) or apart from it."""
    return a is None or out is a or _apart(out, a)


include "_softmax.pxi"  # the softmax family
include "_losses.pxi"  # the losses
