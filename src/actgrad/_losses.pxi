# Bindings of the loss drivers (csrc/include/ag_losses.h), included from _core.pyx.
# They only turn arrays into pointers and element strides, release the GIL and call C;
# src/actgrad/_losses.py checks the arguments and lays the arrays out:
#   x, probs, dx, target, loss: C-contiguous (any shape), viewed as (outer, C, inner)
#   and (outer, inner); grads: a 2-D (outer, inner) array of any strides, or None.

from libc.stdint cimport int64_t
from libc.string cimport memset
from cpython.object cimport PyObject

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void *data, cnp.PyArray_Descr *descr, PyObject *base)

cdef extern from "actgrad.h" nogil:
    ctypedef struct ag_ce_args:
        int f32
        Py_ssize_t outer, C, inner
        const void *x
        Py_ssize_t xs[3]
        const int64_t *target
        Py_ssize_t ts[2]
        int64_t ignore_index
        const void *probs
        const void *weight
        double label_smoothing
        int reduction
        double grad
        const void *grads
        Py_ssize_t gs[2]
        void *loss
        Py_ssize_t ls[2]
        void *dx
    ctypedef struct ag_bcast:
        const void *p
        Py_ssize_t rep, period
    ctypedef struct ag_pointwise_args:
        int f32
        Py_ssize_t n
        const void *x
        const void *t
        ag_bcast weight, pos_weight
        int reduction
        double grad
        ag_bcast grads
        void *loss
        void *dx
    int ag_cross_entropy(const ag_ce_args *a, double *total, int64_t *bad_target)
    int ag_bce_with_logits(const ag_pointwise_args *a, double *total)
    int ag_mse(const ag_pointwise_args *a, double *total)


cdef inline void *_data(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline object _scalar_of(cnp.ndarray x, double total):
    """total as a NumPy scalar of x's dtype (float32 or float64)."""
    cdef float f = <float>total
    if cnp.PyArray_ITEMSIZE(x) == 4:
        return PyArray_Scalar(&f, cnp.PyArray_DESCR(x), NULL)
    return PyArray_Scalar(&total, cnp.PyArray_DESCR(x), NULL)


def cross_entropy(cnp.ndarray x, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, object target,
                  object probs, object weight, long long ignore_index, double label_smoothing,
                  int reduction, double grad, object grads, object loss, object dx, bint want_total):
    """ag_cross_entropy; returns (status, total as a scalar of x's dtype, first bad target)."""
    cdef ag_ce_args a
    cdef double total = 0.0
    cdef int64_t bad = 0
    cdef int rc
    a.f32 = cnp.PyArray_ITEMSIZE(x) == 4
    a.outer = outer
    a.C = C
    a.inner = inner
    a.x = cnp.PyArray_DATA(x)
    a.xs[0] = C * inner
    a.xs[1] = inner
    a.xs[2] = 1
    a.target = <const int64_t *>_data(target)
    a.ts[0] = inner
    a.ts[1] = 1
    a.ignore_index = ignore_index
    a.probs = _data(probs)
    a.weight = _data(weight)
    a.label_smoothing = label_smoothing
    a.reduction = reduction
    a.grad = grad
    a.grads = _data(grads)
    a.gs[0] = a.gs[1] = 0
    if grads is not None:
        a.gs[0] = cnp.PyArray_STRIDE(<cnp.ndarray>grads, 0) // cnp.PyArray_ITEMSIZE(<cnp.ndarray>grads)
        a.gs[1] = cnp.PyArray_STRIDE(<cnp.ndarray>grads, 1) // cnp.PyArray_ITEMSIZE(<cnp.ndarray>grads)
    a.loss = _data(loss)
    a.ls[0] = inner
    a.ls[1] = 1
    a.dx = _data(dx)
    with nogil:
        rc = ag_cross_entropy(&a, &total if want_total else NULL, &bad)
    return rc, _scalar_of(x, total), bad


cdef inline void _bcast(ag_bcast *b, object arr, Py_ssize_t rep, Py_ssize_t period):
    b.p = _data(arr)
    b.rep = rep
    b.period = period


def pointwise_loss(bint mse, cnp.ndarray x, cnp.ndarray t, object weight, Py_ssize_t w_rep,
                   Py_ssize_t w_period, object pos_weight, Py_ssize_t pw_rep, Py_ssize_t pw_period,
                   int reduction, double grad, object grads, Py_ssize_t g_rep, Py_ssize_t g_period,
                   object loss, object dx, bint want_total):
    """ag_mse or ag_bce_with_logits on contiguous x, t; returns (status, total as a scalar of
    x's dtype)."""
    cdef ag_pointwise_args a
    cdef double total = 0.0
    cdef int rc
    a.f32 = cnp.PyArray_ITEMSIZE(x) == 4
    a.n = cnp.PyArray_SIZE(x)
    a.x = cnp.PyArray_DATA(x)
    a.t = cnp.PyArray_DATA(t)
    _bcast(&a.weight, weight, w_rep, w_period)
    _bcast(&a.pos_weight, pos_weight, pw_rep, pw_period)
    a.reduction = reduction
    a.grad = grad
    _bcast(&a.grads, grads, g_rep, g_period)
    a.loss = _data(loss)
    a.dx = _data(dx)
    with nogil:
        if mse:
            rc = ag_mse(&a, &total if want_total else NULL)
        else:
            rc = ag_bce_with_logits(&a, &total if want_total else NULL)
    return rc, _scalar_of(x, total)


cdef inline bint _ready(cnp.ndarray a):
    """C-contiguous, aligned, native byte order: the C core can read it as it is."""
    return cnp.PyArray_ISCARRAY_RO(a) and cnp.PyArray_ISNOTSWAPPED(a)


cdef inline bint _overlap(cnp.ndarray a, cnp.ndarray b):
    """Whether two contiguous arrays share bytes."""
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    return pa < pb + cnp.PyArray_NBYTES(b) and pb < pa + cnp.PyArray_NBYTES(a)


def cross_entropy_fast(object x, object t, long long ignore_index, double label_smoothing,
                       int reduction, double grad, bint want_loss, bint want_grad, object out):
    """cross_entropy's usual call in one step: x a 2-D (samples, classes) float32/float64
    array and t an int64 array of its samples, both ready as they are, a mean or sum loss,
    out None or ready for the gradient (x's dtype and shape, writeable, not overlapping t,
    overlapping x only by being x: a partial overlap would read gradients already written).
    Returns None for anything else (the caller takes the general path), else
    (status, loss scalar or None, gradient array or None, first bad target)."""
    if type(x) is not cnp.ndarray or type(t) is not cnp.ndarray:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, ta = <cnp.ndarray>t
    cdef int xt = cnp.PyArray_TYPE(xa), tt = cnp.PyArray_TYPE(ta)
    if (cnp.PyArray_NDIM(xa) != 2 or cnp.PyArray_NDIM(ta) != 1
            or (xt != cnp.NPY_FLOAT and xt != cnp.NPY_DOUBLE)
            or (tt != cnp.NPY_LONG and tt != cnp.NPY_LONGLONG) or cnp.PyArray_ITEMSIZE(ta) != 8
            or cnp.PyArray_DIM(ta, 0) != cnp.PyArray_DIM(xa, 0) or not _ready(xa) or not _ready(ta)):
        return None
    cdef cnp.ndarray dx = None
    if out is not None:
        if type(out) is not cnp.ndarray:
            return None
        dx = <cnp.ndarray>out
        if (cnp.PyArray_TYPE(dx) != xt or cnp.PyArray_NDIM(dx) != 2 or not _ready(dx)
                or not cnp.PyArray_ISWRITEABLE(dx) or _overlap(dx, ta)
                or (_overlap(dx, xa) and cnp.PyArray_DATA(dx) != cnp.PyArray_DATA(xa))
                or cnp.PyArray_DIM(dx, 0) != cnp.PyArray_DIM(xa, 0) or cnp.PyArray_DIM(dx, 1) != cnp.PyArray_DIM(xa, 1)):
            return None
    elif want_grad:
        dx = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(xa), xt, 0)
    cdef ag_ce_args a
    cdef double total = 0.0
    cdef int64_t bad = 0
    cdef int rc
    memset(&a, 0, sizeof(a))
    a.f32 = xt == cnp.NPY_FLOAT
    a.outer = cnp.PyArray_DIM(xa, 0)
    a.C = cnp.PyArray_DIM(xa, 1)
    a.inner = 1
    a.x = cnp.PyArray_DATA(xa)
    a.xs[0] = a.C
    a.xs[1] = 1
    a.xs[2] = 1
    a.target = <const int64_t *>cnp.PyArray_DATA(ta)
    a.ts[0] = 1
    a.ignore_index = ignore_index
    a.label_smoothing = label_smoothing
    a.reduction = reduction
    a.grad = grad
    a.dx = cnp.PyArray_DATA(dx) if want_grad else NULL
    with nogil:
        rc = ag_cross_entropy(&a, &total if want_loss else NULL, &bad)
    return rc, (_scalar_of(xa, total) if want_loss else None), dx, bad
