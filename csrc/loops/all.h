/* The loops of one dtype pass (isa/kernels_table.h): the elementwise kernels,
 * softmax and the losses. */
#include "kernels_body.h"
#include "softmax_body.h"
#include "losses_body.h"
