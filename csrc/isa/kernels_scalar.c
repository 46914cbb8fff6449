/* Portable one-lane kernels: the fallback everywhere and the reference path. */
#include "../simd/scalar.h"
#define AG_ISA scalar
#include "kernels_table.h"
