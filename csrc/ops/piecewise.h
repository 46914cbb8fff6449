/* Shared by the piecewise-linear activations: a result chosen from constants by
 * comparisons would turn NaN into a number, so the input's NaN is passed through.
 * Include pattern: see vmath/exp.h. */
/* Uses (included before it by ops/all.h): vmath/exp.h. */

#define ag_ops_nanpass AG_FN(ag_ops_nanpass)
AG_INLINE vec ag_ops_nanpass(vec x, vec r) { return v_select(v_isnan(x), x, r); }
