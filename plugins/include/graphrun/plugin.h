/* graphrun plugin ABI: the whole contract between graphrun and a plugin module.
 *
 * A plugin is a shared library that exports two C functions:
 *
 *   uint32_t graphrun_plugin_abi_version(void);
 *       Returns GRAPHRUN_PLUGIN_ABI_VERSION as the plugin saw it when it was built. The host
 *       calls it first and refuses the module (naming the file and both versions) unless it
 *       equals the host's version. Nothing else is called in a refused module.
 *
 *   int graphrun_plugin_init(const graphrun_host* host, graphrun_registry* registry);
 *       Registers the plugin's entries through host->register_activation and
 *       host->register_optimizer. Returns 0 on success; on failure calls host->set_error with
 *       a message and returns non-zero, and the host discards everything it registered.
 *
 * GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION() defines the first function for you.
 *
 * Ownership and lifetime: every pointer a plugin hands over (entries, names, parameter tables)
 * must stay valid while the module is loaded: use static storage. The host never frees them.
 * The host keeps the module loaded for the life of the process that loaded it.
 *
 * Threads: kernels are called from several threads at once on disjoint ranges (the host
 * splits elementwise work by ranges and row-wise work by rows), so they must be reentrant and
 * keep no mutable global state. A kernel never allocates, never fails and never calls back
 * into the host. Kernels receive arrays that may be unaligned and may alias only where noted.
 *
 * Versioning: GRAPHRUN_PLUGIN_ABI_VERSION changes whenever a struct below changes layout or
 * meaning. Within one version, fields appended at the end of an entry are optional: the host
 * checks each entry's struct_size and accepts an entry built before such a field was added
 * (today: an optimizer without step_outer), reading only the fields its size covers.
 */
#ifndef GRAPHRUN_PLUGIN_H_
#define GRAPHRUN_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GRAPHRUN_PLUGIN_ABI_VERSION 1u

/* A named numeric parameter with its default and valid closed range [min, max]. */
typedef struct graphrun_param {
  const char* name;
  double default_value;
  double min_value;
  double max_value;
  const char* doc; /* one line; may be NULL */
} graphrun_param;

typedef enum graphrun_activation_kind {
  GRAPHRUN_ACTIVATION_ELEMENTWISE = 0, /* dst[i] depends on src[i] only */
  GRAPHRUN_ACTIVATION_ROWWISE = 1      /* dst row depends on the whole src row (softmax) */
} graphrun_activation_kind;

/* Activation kernels see a [rows, cols] block; for elementwise kinds rows is 1 and cols is
 * the range length. params holds one value per declared parameter, in declaration order.
 *   forward:  dst = f(src).                              dst may alias src.
 *   backward: d_src = d_dst * f'(src) (or the row-wise vector-Jacobian product), given src,
 *             dst = f(src) and d_dst.                     d_src may alias d_dst. */
typedef void (*graphrun_activation_forward_f32)(const float* src, float* dst, size_t rows, size_t cols,
                                                const double* params);
typedef void (*graphrun_activation_backward_f32)(const float* src, const float* dst, const float* d_dst, float* d_src,
                                                 size_t rows, size_t cols, const double* params);
typedef void (*graphrun_activation_forward_f64)(const double* src, double* dst, size_t rows, size_t cols,
                                                const double* params);
typedef void (*graphrun_activation_backward_f64)(const double* src, const double* dst, const double* d_dst,
                                                 double* d_src, size_t rows, size_t cols, const double* params);

/* oneDNN eltwise algorithms an activation may declare as its exact equivalent, so the oneDNN
 * backend can run it natively (alpha and beta as oneDNN defines them for that algorithm). */
typedef enum graphrun_onednn_eltwise {
  GRAPHRUN_ONEDNN_NONE = 0,
  GRAPHRUN_ONEDNN_RELU, /* alpha: negative slope */
  GRAPHRUN_ONEDNN_TANH,
  GRAPHRUN_ONEDNN_LOGISTIC,
  GRAPHRUN_ONEDNN_ELU,   /* alpha */
  GRAPHRUN_ONEDNN_SWISH, /* alpha: beta of x * sigmoid(beta * x) */
  GRAPHRUN_ONEDNN_GELU_TANH,
  GRAPHRUN_ONEDNN_GELU_ERF,
  GRAPHRUN_ONEDNN_SOFT_RELU /* softplus with beta 1 */
} graphrun_onednn_eltwise;

typedef struct graphrun_activation {
  uint32_t struct_size; /* sizeof(graphrun_activation) */
  const char* name;     /* unique across all loaded plugins, [a-z0-9_]+ */
  const char* doc;      /* one line */
  graphrun_activation_kind kind;
  const graphrun_param* params;
  uint32_t n_params;
  graphrun_activation_forward_f32 forward;   /* required */
  graphrun_activation_backward_f32 backward; /* required */
  /* Optional double-precision versions: tests use them for finite-difference gradient checks.
   * NULL when the plugin does not provide them. */
  graphrun_activation_forward_f64 forward_f64;
  graphrun_activation_backward_f64 backward_f64;
  /* Optional: the oneDNN algorithm equal to this activation for the given params, with its
   * alpha and beta. Returns GRAPHRUN_ONEDNN_NONE when there is none. May be NULL. */
  graphrun_onednn_eltwise (*onednn_equivalent)(const double* params, float* alpha, float* beta);
} graphrun_activation;

/* Optimizer step over one parameter tensor of n elements (or a range of one; the host may
 * split a tensor into ranges and call step on each from different threads).
 *   param:  updated in place.          grad: the loss gradient (read only).
 *   state:  n_state_slots arrays of n floats each, zero at step 1, kept by the host between
 *           steps (and saved in checkpoints).
 *   step:   1 for the first update, then 2, 3, ...
 *   lr:     the learning rate for this step (after schedules).
 *   hyper:  one value per declared hyperparameter, in declaration order. */
typedef void (*graphrun_optimizer_step_f32)(float* param, const float* grad, float* const* state, size_t n,
                                            uint64_t step, double lr, const double* hyper);

/* Optional: the same step where the gradient is an outer product that is never stored:
 * grad[r][c] = (float)(a[r] * b[c]) for r < rows, c < cols (the weight gradient of a dense
 * layer at batch size 1, x^T dz). param and every state array are rows x cols blocks with row
 * stride ld (the host passes blocks of rows of a matrix, a and the param rows starting at the
 * block's first row, b whole, from different threads). Must give
 * exactly the floats step() gives on the stored gradient. */
typedef void (*graphrun_optimizer_step_outer_f32)(float* param, float* const* state, size_t ld, const float* a,
                                                  size_t rows, const float* b, size_t cols, uint64_t step, double lr,
                                                  const double* hyper);

/* Fields after `step` are optional extensions of ABI version 1: a plugin built against an
 * older header sets a smaller struct_size, and the host reads only the fields it covers. */
typedef struct graphrun_optimizer {
  uint32_t struct_size; /* sizeof(graphrun_optimizer) as the plugin was compiled */
  const char* name;
  const char* doc;
  double default_lr;
  const graphrun_param* hyper; /* hyperparameters other than the learning rate */
  uint32_t n_hyper;
  uint32_t n_state_slots;
  /* Names of the state slots (n_state_slots entries), used as checkpoint tensor names. */
  const char* const* state_slot_names;
  graphrun_optimizer_step_f32 step;             /* required */
  graphrun_optimizer_step_outer_f32 step_outer; /* optional (NULL): the host then stores the gradient */
} graphrun_optimizer;

typedef struct graphrun_registry graphrun_registry; /* opaque, owned by the host */

typedef struct graphrun_host {
  uint32_t abi_version; /* GRAPHRUN_PLUGIN_ABI_VERSION of the host */
  /* Each returns 0 on success, non-zero (with the reason recorded by the host) on failure. */
  int (*register_activation)(graphrun_registry* registry, const graphrun_activation* entry);
  int (*register_optimizer)(graphrun_registry* registry, const graphrun_optimizer* entry);
  /* Records why init failed; the host copies the message. */
  void (*set_error)(graphrun_registry* registry, const char* message);
} graphrun_host;

#if defined(_WIN32)
#define GRAPHRUN_PLUGIN_EXPORT __declspec(dllexport)
#else
#define GRAPHRUN_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
#define GRAPHRUN_PLUGIN_EXTERN_C extern "C"
#else
#define GRAPHRUN_PLUGIN_EXTERN_C
#endif

#define GRAPHRUN_PLUGIN_DEFINE_ABI_VERSION()                                                   \
  GRAPHRUN_PLUGIN_EXTERN_C GRAPHRUN_PLUGIN_EXPORT uint32_t graphrun_plugin_abi_version(void) { \
    return GRAPHRUN_PLUGIN_ABI_VERSION;                                                        \
  }

#define GRAPHRUN_PLUGIN_INIT GRAPHRUN_PLUGIN_EXTERN_C GRAPHRUN_PLUGIN_EXPORT int graphrun_plugin_init

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GRAPHRUN_PLUGIN_H_ */
