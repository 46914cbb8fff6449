/* All the math of one dtype pass: every vmath and ops header, each included once,
 * in dependency order (a header uses only what is above it here).  isa/dtype_passes.h
 * includes this once per dtype pass (float, then double), so the math headers
 * include nothing of their own and need no guard; see vmath/exp.h.
 *
 * d32.h, exp_d32.h and log1p_d32.h do not depend on the dtype (double
 * functions with fixed names, used by the float32 pass): ordinary include
 * guards keep them to one copy per translation unit.
 *
 * Every kernel of the table (src/actgrad/_optable.py) needs its ops/<name>.h
 * here; tools/gen.py checks that. */
#include "d32.h"
#include "../vmath/log1p_d32.h"

#include "../vmath/exp.h"
#include "../vmath/exp_le0.h"
#include "../vmath/expm1.h"
#include "../vmath/log1p.h"
#include "../vmath/tanh.h"
#include "../vmath/erfc.h"

#include "piecewise.h"
#include "sigmoid.h"

#include "tanh.h"
#include "relu.h"
#include "relu6.h"
#include "leaky_relu.h"
#include "elu.h"
#include "selu.h"
#include "celu.h"
#include "softplus.h"
#include "log_sigmoid.h"
#include "silu.h"
#include "gelu.h"
#include "gelu_tanh.h"
#include "mish.h"
#include "hardtanh.h"
#include "hardsigmoid.h"
#include "hardswish.h"
#include "softsign.h"
