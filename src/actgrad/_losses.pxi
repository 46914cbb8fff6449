# Bindings of the loss drivers (csrc/include/ag_losses.h), included from _core.pyx.
# They turn arrays into pointers, release the GIL and call C; src/actgrad/_losses.py
# checks the arguments (with _args.py) and passes the arrays' element strides, except in
# the usual call, whose bindings (*_usual) test its plain values and decline the rest.

from libc.stdint cimport int64_t
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.object cimport PyObject

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void *data, cnp.PyArray_Descr *descr, PyObject *base)
    object PyArray_NewLikeArray(cnp.ndarray prototype, cnp.NPY_ORDER order, cnp.PyArray_Descr *descr,
                                int subok)

cdef extern from "actgrad.h" nogil:
    enum: AG_REDUCE_MEAN, AG_REDUCE_SUM
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
    a.outer = outer
    a.C = C
    a.inner = inner
    a.xs[0], a.xs[1], a.xs[2] = xs
    a.target = <const int64_t *>_data(target)
    a.ts[0], a.ts[1] = ts
    a.probs = _data(probs)
    a.weight = _data(weight)
    a.grads = _data(grads)
    a.gs[0], a.gs[1] = gs
    a.loss = _data(loss)
    a.ls[0] = inner
    a.ls[1] = 1
    return _ce_run(&a, x, ignore_index, label_smoothing, reduction, grad, dx, want_grad, want_total)


cdef object _ce_run(ag_ce_args *a, cnp.ndarray x, long long ignore_index, double label_smoothing,
                    int reduction, double grad, object dx, bint want_grad, bint want_total):
    """Fills in the rest of a and calls ag_cross_entropy (see cross_entropy)."""
    cdef double total = 0.0
    cdef int64_t bad = 0
    cdef int rc
    a.f32 = cnp.PyArray_ITEMSIZE(x) == 4
    a.x = cnp.PyArray_DATA(x)
    a.ignore_index = ignore_index
    a.label_smoothing = label_smoothing
    a.reduction = reduction
    a.grad = grad
    if want_grad and dx is None:
        dx = PyArray_NewLikeArray(x, cnp.NPY_KEEPORDER, NULL, 0)
    a.dx = _data(dx)
    cdef PyThreadState *state = _release_gil(a.outer * a.C * a.inner)
    rc = ag_cross_entropy(a, &total if want_total else NULL, &bad)
    _retake_gil(state)
    return rc, _scalar_of(x, total), bad, dx


cdef int _plain_reduction(object reduction):
    """The C code of reduction 'mean' or 'sum' (an exact str), else -1."""
    if type(reduction) is not str:
        return -1
    if reduction == "mean":
        return AG_REDUCE_MEAN
    if reduction == "sum":
        return AG_REDUCE_SUM
    return -1


cdef inline bint _plain_grad(object grad):
    return type(grad) is float


def cross_entropy_usual(object logits, object target, object axis, object weight, object ignore_index,
                        object reduction, object label_smoothing, object grad, object out,
                        bint want_loss, bint want_grad):
    """The usual call of cross_entropy(_backward, _with_grad), straight to C: (N, C)
    float32/float64 logits and N int64 class indices, axis -1 or 1 (exact ints), no weight,
    an integer ignore_index of int64's range, reduction 'mean' or 'sum', a float
    label_smoothing in [0, 1] and a float grad, the gradient into out (None: a new array
    like the logits).  Returns the call's result (the loss as a scalar of the logits' dtype,
    the gradient, or both), or None, having written nothing, unless every argument is so and
    the arrays are laid out for C to use in place: the logits' strides whole elements (dense,
    in C or F order, when the gradient is wanted), target's stride whole elements, out None
    or a writeable array of the logits' dtype, shape and strides, the logits themselves or
    apart from them, and apart from target; also None where C finds a target out of range
    (the general path, _losses._ce, then raises the error)."""
    cdef int overflow = 0
    cdef int red = _plain_reduction(reduction)
    if (red < 0 or weight is not None or type(axis) is not int or not (axis == -1 or axis == 1)
            or type(label_smoothing) is not float or not (0.0 <= label_smoothing <= 1.0)
            or type(ignore_index) is not int or not _plain_grad(grad)):
        return None
    cdef long long ii = PyLong_AsLongLongAndOverflow(ignore_index, &overflow)
    if overflow:
        return None
    cdef object descr
    if _exact(logits, _F32_DESCR):
        descr = _F32_DESCR
    elif _exact(logits, _F64_DESCR):
        descr = _F64_DESCR
    else:
        return None
    if not _exact(target, _I64_DESCR):
        return None
    cdef cnp.ndarray x = <cnp.ndarray>logits, t = <cnp.ndarray>target, o
    if cnp.PyArray_NDIM(x) != 2 or cnp.PyArray_NDIM(t) != 1:
        return None
    cdef Py_ssize_t n = cnp.PyArray_DIM(x, 0), C = cnp.PyArray_DIM(x, 1), isz = cnp.PyArray_ITEMSIZE(x)
    cdef Py_ssize_t s0 = cnp.PyArray_STRIDE(x, 0), s1 = cnp.PyArray_STRIDE(x, 1), st = cnp.PyArray_STRIDE(t, 0)
    if cnp.PyArray_DIM(t, 0) != n or s0 % isz or s1 % isz or st % 8:
        return None
    if want_grad and not ((s1 == isz and s0 == C * isz) or (s0 == isz and s1 == n * isz)):
        return None
    if out is not None:
        if not _exact(out, descr):
            return None
        o = <cnp.ndarray>out
        if not (cnp.PyArray_ISWRITEABLE(o) and cnp.PyArray_NDIM(o) == 2 and cnp.PyArray_DIM(o, 0) == n
                and cnp.PyArray_DIM(o, 1) == C and cnp.PyArray_STRIDE(o, 0) == s0
                and cnp.PyArray_STRIDE(o, 1) == s1 and _writable_over(o, x) and _apart(o, t)):
            return None
    cdef ag_ce_args a
    a.outer, a.C, a.inner = n, C, 1
    a.xs[0], a.xs[1], a.xs[2] = s0 // isz, s1 // isz, 0
    a.target = <const int64_t *>cnp.PyArray_DATA(t)
    a.ts[0], a.ts[1] = st // 8, 0
    a.probs = a.weight = a.grads = NULL
    a.gs[0] = a.gs[1] = 0
    a.loss = NULL
    a.ls[0], a.ls[1] = 1, 1
    rc, total, bad, dx = _ce_run(&a, x, ii, label_smoothing, red, grad, out, want_grad, want_loss)
    if rc:
        return None
    return (total, dx) if want_loss and want_grad else (dx if want_grad else total)


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
    cdef PyThreadState *state = _release_gil(a.n)
    if mse:
        rc = ag_mse(&a, &total if want_total else NULL)
    else:
        rc = ag_bce_with_logits(&a, &total if want_total else NULL)
    _retake_gil(state)
    return rc, _scalar_of(x, total)


def pointwise_usual(bint mse, object x, object t, object weight, object pos_weight, object reduction,
                    object grad, object out, bint want_loss, bint want_grad):
    """The usual call of the pointwise losses (mse_loss, binary_cross_entropy_with_logits and
    their _backward, _with_grad), straight to C: no weight or pos_weight, reduction 'mean' or
    'sum', a float grad, the gradient (want_grad) into out (None: a new C-contiguous array).
    Returns the call's result (the loss as a scalar of x's dtype, the gradient, or both), or
    None, having written nothing, unless every argument is so, x is a C-contiguous
    float32/float64 ndarray, t one of its dtype and shape, and out None or a writeable
    C-contiguous array of x's dtype and shape, x itself or apart from it, and apart from t;
    also None where C runs out of memory (the general path, _losses._pointwise, raises)."""
    cdef int red = _plain_reduction(reduction)
    if red < 0 or weight is not None or pos_weight is not None or not _plain_grad(grad):
        return None
    cdef object descr
    if _exact(x, _F32_DESCR):
        descr = _F32_DESCR
    elif _exact(x, _F64_DESCR):
        descr = _F64_DESCR
    else:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    if not (cnp.PyArray_IS_C_CONTIGUOUS(xa) and _exact(t, descr) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>t)
            and _same_shape(xa, <cnp.ndarray>t)):
        return None
    if out is not None:
        if not (_exact(out, descr) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>out)
                and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out) and _same_shape(xa, <cnp.ndarray>out)
                and _writable_over(out, x) and _apart(out, t)):
            return None
    elif want_grad:
        out = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(xa), cnp.PyArray_DIMS(xa), cnp.PyArray_TYPE(xa), 0)
    cdef ag_pointwise_args a
    cdef double total = 0.0
    cdef int rc
    a.f32 = cnp.PyArray_ITEMSIZE(xa) == 4
    a.n = cnp.PyArray_SIZE(xa)
    a.x = cnp.PyArray_DATA(xa)
    a.t = cnp.PyArray_DATA(<cnp.ndarray>t)
    _bcast(&a.weight, None, 1, 1)
    _bcast(&a.pos_weight, None, 1, 1)
    a.reduction = red
    a.grad = grad
    _bcast(&a.grads, None, 1, 1)
    a.loss = NULL
    a.dx = _data(out) if want_grad else NULL
    cdef PyThreadState *state = _release_gil(a.n)
    if mse:
        rc = ag_mse(&a, &total if want_loss else NULL)
    else:
        rc = ag_bce_with_logits(&a, &total if want_loss else NULL)
    _retake_gil(state)
    if rc:
        return None
    if not want_grad:
        return _scalar_of(xa, total)
    return (_scalar_of(xa, total), out) if want_loss else out
