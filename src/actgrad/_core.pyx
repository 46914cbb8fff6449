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


include "_softmax.pxi"  # the softmax family
include "_losses.pxi"  # the losses
