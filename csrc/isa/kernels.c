/* Every kernel of one ISA and its exported table ag_kernels_<AG_ISA>.  Built once per row of
 * csrc/include/ag_isas.h with AG_ISA defined to the row's name (csrc/Makefile passes
 * -DAG_ISA=<name>; setup.py compiles generated csrc/gen/kernels_<name>.c wrappers). */
#include "isa_begin.h"
#if AG_ISA_HERE
#include "kernels_table.h"
#endif
#include "isa_end.h"
