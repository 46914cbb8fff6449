# Bindings of the loss drivers (csrc/include/ag_losses.h), included from _core.pyx.
# They only turn arrays into pointers, release the GIL and call C; src/actgrad/_losses.py
# checks the arguments (with _args.py) and passes the arrays' element strides.

from libc.stdint cimport int64_t
from cpython.object cimport PyObject

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void *data, cnp.PyArray_Descr *descr, PyObject *base)
    object PyArray_NewLikeArray(cnp.ndarray prototype, cnp.NPY_ORDER order, cnp.PyArray_Descr *descr,
                                int subok)

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


def cross_entropy(cnp.ndarray x, Py_ssize_t outer, Py_ssize_t C, Py_ssize_t inner, tuple xs,
                  object target, tuple ts, object probs, object weight, long long ignore_index,
                  double label_smoothing, int reduction, double grad, object grads, tuple gs,
                  object loss, object dx, bint want_grad, bint want_total):
    """ag_cross_entropy; returns (status, total as a scalar of x's dtype, first bad target,
    the gradient).  xs: x's element strides over (outer, C, inner), shared by probs and dx;
    ts, gs: those of target and grads over (outer, inner); loss is C-contiguous.  With
    want_grad and dx None, the gradient is allocated like x (np.empty_like)."""
    cdef ag_ce_args a
    cdef double total = 0.0
    cdef int64_t bad = 0
    cdef int rc
    a.f32 = cnp.PyArray_ITEMSIZE(x) == 4
    a.outer = outer
    a.C = C
    a.inner = inner
    a.x = cnp.PyArray_DATA(x)
    a.xs[0], a.xs[1], a.xs[2] = xs
    a.target = <const int64_t *>_data(target)
    a.ts[0], a.ts[1] = ts
    a.ignore_index = ignore_index
    a.probs = _data(probs)
    a.weight = _data(weight)
    a.label_smoothing = label_smoothing
    a.reduction = reduction
    a.grad = grad
    a.grads = _data(grads)
    a.gs[0], a.gs[1] = gs
    a.loss = _data(loss)
    a.ls[0] = inner
    a.ls[1] = 1
    if want_grad and dx is None:
        dx = PyArray_NewLikeArray(x, cnp.NPY_KEEPORDER, NULL, 0)
    a.dx = _data(dx)
    with nogil:
        rc = ag_cross_entropy(&a, &total if want_total else NULL, &bad)
    return rc, _scalar_of(x, total), bad, dx


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
