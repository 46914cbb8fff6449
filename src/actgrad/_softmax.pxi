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
