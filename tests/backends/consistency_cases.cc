// The backend consistency table: every op, on every built backend against the reference,
// forward and backward, and its gradient against finite differences in double.
//
// To add an op, add rows here:
//   t.add("my_op [7,17]", {in({7, 17})}, BUILD(ops::my_op(g, x[0], attrs)));
// The name's first word groups the rows into one test per backend ("my_op"); x[i] are the
// inputs, of the given shapes. Give odd sizes and the vector-width edges (sweep() and
// kEdgeSizes do that), and, where needed, .tolerance(atol, rtol) for float vs the reference's
// double accumulation, .domain(lo, hi) for the inputs, .with_batch(n) for shapes with
// Shape::kBatch, .fd(tolerance) for the finite-difference check (which runs on rows of at
// most 4096 input elements). Inputs that are not differentiated: class_indices(), soft_labels().
// EveryOpHasARow fails until each op of core/op_list.inc appears in a row.
#include <filesystem>

#include "core/plugin_host.h"
#include "tests/backends/consistency.h"
#include "tests/support/test_activations.h"

namespace graphrun::testing {
namespace {

// The sizes each dimension is swept over: vector widths 8 and 16 and their neighbours, odd
// sizes, and MNIST's 784.
const int64_t kEdgeSizes[] = {1, 3, 7, 17, 31, 33, 63, 65, 127, 129, 784};

std::string dims(std::initializer_list<int64_t> d) {
  std::string s = "[";
  for (int64_t v : d) {
    if (s.size() > 1) s += ',';
    s += std::to_string(v);
  }
  return s + "]";
}

// f(rows, cols) for rows over the edge sizes at 17 columns, then cols over them at 17 rows.
template <class F>
void sweep(F f) {
  for (int64_t n : kEdgeSizes) f(n, int64_t{17});
  for (int64_t n : kEdgeSizes) f(int64_t{17}, n);
}

// The built activation plugins (never unloaded: rows point at their entries).
const PluginRegistry& plugins() {
  static PluginRegistry* r = [] {
    auto* reg = new PluginRegistry;
    if (std::filesystem::exists(GRAPHRUN_PLUGIN_BUILD_DIR)) reg->load_search_path({GRAPHRUN_PLUGIN_BUILD_DIR});
    return reg;
  }();
  return *r;
}

void matmul_rows(Table& t) {
  // Small shapes with every transpose (checked by finite differences), a batch dimension, then
  // each of M, K, N swept over the edge sizes with the others at 17, 33, 31.
  for (int tr = 0; tr < 4; ++tr) {
    const bool ta = tr & 1, tb = tr & 2;
    const std::string flags = std::string(ta ? " ta" : "") + (tb ? " tb" : "");
    t.add("matmul [3,5]x[5,4]" + flags, {in(ta ? Shape{5, 3} : Shape{3, 5}), in(tb ? Shape{4, 5} : Shape{5, 4})},
          BUILD(ops::matmul(g, x[0], x[1], ta, tb)));
  }
  t.add("matmul batch [N,6]x[6,3]", {in({Shape::kBatch, 6}), in({6, 3})}, BUILD(ops::matmul(g, x[0], x[1])))
      .with_batch(4);
  const int64_t base[3] = {17, 33, 31};
  for (int dim = 0; dim < 3; ++dim) {
    for (int64_t size : kEdgeSizes) {
      int64_t mkn[3] = {base[0], base[1], base[2]};
      mkn[dim] = size;
      const int64_t m = mkn[0], k = mkn[1], n = mkn[2];
      for (int tr = 0; tr < 4; ++tr) {
        const bool ta = tr & 1, tb = tr & 2;
        t.add("matmul mkn" + dims({m, k, n}) + (ta ? " ta" : "") + (tb ? " tb" : ""),
              {in(ta ? Shape{k, m} : Shape{m, k}), in(tb ? Shape{n, k} : Shape{k, n})},
              BUILD(ops::matmul(g, x[0], x[1], ta, tb)))
            .tolerance(2e-6 * static_cast<double>(std::max({m, k, n})) + 1e-5, 1e-5);
      }
    }
  }
}

void elementwise_rows(Table& t) {
  sweep([&](int64_t r, int64_t c) {
    t.add("add " + dims({r, c}), {in({r, c}), in({r, c})}, BUILD(ops::add(g, x[0], x[1])));
    t.add("add bias " + dims({r, c}), {in({r, c}), in({c})}, BUILD(ops::add(g, x[0], x[1])))
        .tolerance(1e-6 * static_cast<double>(r) + 1e-5, 1e-5);  // d bias sums the rows
    t.add("mul " + dims({r, c}), {in({r, c}), in({r, c})}, BUILD(ops::mul(g, x[0], x[1])));
    t.add("scale " + dims({r, c}), {in({r, c})}, BUILD(ops::scale(g, x[0], -2.5f)));
  });
  t.add("add bias batch [N,5]+[5]", {in({Shape::kBatch, 5}), in({5})}, BUILD(ops::add(g, x[0], x[1]))).with_batch(3);
  t.add("add bias rank3 [2,5,7]+[7]", {in({2, 5, 7}), in({7})}, BUILD(ops::add(g, x[0], x[1])));
  t.add("mul scaled [3,4]", {in({3, 4}), in({3, 4})}, BUILD(ops::scale(g, ops::mul(g, x[0], x[1]), -2.5f)));
  // broadcast_rows is a gradient op (of the reductions); here also on its own, forward only.
  t.add("broadcast_rows [7]->[5,7]", {{Shape{7}, Fill::kUniform, 0, false}, {Shape{5, 7}, Fill::kUniform, 0, false}},
        BUILD(ops::broadcast_rows(g, x[0], x[1], 1.5f)));
  t.add("broadcast_rows scalar/count ->[31,17]",
        {{Shape{}, Fill::kUniform, 0, false}, {Shape{31, 17}, Fill::kUniform, 0, false}},
        BUILD(ops::broadcast_rows(g, x[0], x[1], -0.5f, true)));
  // A constant operand (its value is the graph's).
  static const float kConstant[] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12};
  t.add("constant add [3,4]", {in({3, 4})}, BUILD(ops::add(g, x[0], g.constant("c", Tensor(Shape{3, 4}, kConstant)))));
}

void activation_rows(Table& t) {
  // Test-local entries (with f64 kernels), one with a parameter, then every built plugin at
  // its default parameters over a wider domain.
  sweep([&](int64_t r, int64_t c) {
    t.add("activation scaled_tanh " + dims({r, c}), {in({r, c})},
          BUILD(ops::activation(g, x[0], test_scaled_tanh(), {0.7})))
        .domain(-2, 2);
  });
  t.add("activation sigmoid [3,7]", {in({3, 7})}, BUILD(ops::activation(g, x[0], test_sigmoid(), {})));
  for (const LoadedActivation* a : plugins().activations()) {
    const graphrun_activation* fn = a->entry;
    std::vector<double> params;
    for (uint32_t i = 0; i < fn->n_params; ++i) params.push_back(fn->params[i].default_value);
    for (auto [r, c] : {std::pair<int64_t, int64_t>{3, 7}, {1, 17}, {33, 31}, {129, 65}, {784, 3}}) {
      t.add(std::string("activation ") + fn->name + " " + dims({r, c}), {in({r, c})},
            BUILD(ops::activation(g, x[0], fn, params)))
          .domain(-4, 4)
          .tolerance(2e-5, 2e-5);
    }
  }
}

// Per-sample weights (every loss) and BCE's pos_weight, on odd shapes and the vector edges.
void weighted_loss_rows(Table& t) {
  for (auto [r, c] : {std::pair<int64_t, int64_t>{1, 1}, {7, 1}, {9, 5}, {17, 3}, {33, 17}, {5, 65}}) {
    const std::string d = dims({r, c});
    t.add("softmax_cross_entropy sparse sample_weights " + d, {in({r, c}), class_indices(r, c), sample_weights(r)},
          BUILD(ops::with_sample_weights(g, ops::softmax_cross_entropy(g, x[0], x[1], true), x[2])))
        .domain(-3, 3);
    t.add("softmax_cross_entropy soft sample_weights " + d, {in({r, c}), soft_labels({r, c}), sample_weights(r)},
          BUILD(ops::with_sample_weights(g, ops::softmax_cross_entropy(g, x[0], x[1], false), x[2])))
        .domain(-3, 3);
    t.add("mean_squared_error sample_weights " + d, {in({r, c}), in({r, c}), sample_weights(r)},
          BUILD(ops::with_sample_weights(g, ops::mean_squared_error(g, x[0], x[1]), x[2])));
    t.add("mean_absolute_error sample_weights " + d, {in({r, c}), in({r, c}), sample_weights(r)},
          BUILD(ops::with_sample_weights(g, ops::mean_absolute_error(g, x[0], ops::scale(g, x[1], -1.0f)), x[2])))
        .domain(0.1, 0.45);
    t.add("huber sample_weights delta 0.1 " + d, {in({r, c}), in({r, c}), sample_weights(r)},
          BUILD(ops::with_sample_weights(g, ops::huber(g, x[0], ops::scale(g, x[1], -1.0f), 0.1f), x[2])))
        .domain(0.1, 0.45);
    t.add("huber sample_weights quadratic " + d, {in({r, c}), in({r, c}), sample_weights(r)},
          BUILD(ops::with_sample_weights(g, ops::huber(g, x[0], ops::scale(g, x[1], -1.0f)), x[2])))
        .domain(0.1, 0.45);
    t.add("binary_cross_entropy sample_weights " + d, {in({r, c}), binary_labels({r, c}), sample_weights(r)},
          BUILD(ops::with_sample_weights(g, ops::binary_cross_entropy(g, x[0], x[1]), x[2])))
        .domain(-6, 6);
    std::vector<float> pos(static_cast<size_t>(c));
    for (size_t j = 0; j < pos.size(); ++j) pos[j] = 0.25f + 0.5f * static_cast<float>(j % 7);
    t.add("binary_cross_entropy pos_weight " + d, {in({r, c}), binary_labels({r, c})},
          BUILD(ops::binary_cross_entropy(g, x[0], x[1], pos)))
        .domain(-6, 6);
    t.add("binary_cross_entropy pos_weight soft sample_weights " + d,
          {in({r, c}), soft_labels({r, c}), sample_weights(r)},
          BUILD(ops::with_sample_weights(g, ops::binary_cross_entropy(g, x[0], x[1], pos), x[2])))
        .domain(-3, 3);
  }
  t.add("binary_cross_entropy pos_weight one for all [129,3]", {in({129, 3}), binary_labels({129, 3})},
        BUILD(ops::binary_cross_entropy(g, x[0], x[1], std::vector<float>{3.0f})))
      .domain(-6, 6);
  t.add("binary_cross_entropy pos_weight large logits [5,3]", {in({5, 3}), binary_labels({5, 3})},
        BUILD(ops::binary_cross_entropy(g, ops::scale(g, x[0], 40.0f), x[1], std::vector<float>{0.5f, 2.0f, 9.0f})))
      .tolerance(1e-4, 1e-5);
  t.add("mean_squared_error sample_weights batch [N,3]",
        {in({Shape::kBatch, 3}), in({Shape::kBatch, 3}), sample_weights(Shape::kBatch)},
        BUILD(ops::with_sample_weights(g, ops::mean_squared_error(g, x[0], x[1]), x[2])))
      .with_batch(5);
}

void softmax_and_loss_rows(Table& t) {
  sweep([&](int64_t r, int64_t c) {
    t.add("softmax " + dims({r, c}), {in({r, c})}, BUILD(ops::softmax(g, x[0]))).domain(-5, 5).tolerance(1e-6, 1e-5);
    t.add("softmax_cross_entropy sparse " + dims({r, c}), {in({r, c}), class_indices(r, c)},
          BUILD(ops::softmax_cross_entropy(g, x[0], x[1], true)))
        .domain(-3, 3);
    t.add("softmax_cross_entropy soft " + dims({r, c}), {in({r, c}), soft_labels({r, c})},
          BUILD(ops::softmax_cross_entropy(g, x[0], x[1], false)))
        .domain(-3, 3);
    t.add("mean_squared_error " + dims({r, c}), {in({r, c}), in({r, c})},
          BUILD(ops::mean_squared_error(g, x[0], x[1])));
    // mae and huber have kinks at pred == target and |pred - target| == delta: the target is
    // -x1 with both inputs in [0.1, 0.45], so |pred - target| lies in [0.2, 0.9], away from 0,
    // below delta 1 (quadratic) and above delta 0.1 (linear).
    t.add("mean_absolute_error " + dims({r, c}), {in({r, c}), in({r, c})},
          BUILD(ops::mean_absolute_error(g, x[0], ops::scale(g, x[1], -1.0f))))
        .domain(0.1, 0.45);
    t.add("huber quadratic " + dims({r, c}), {in({r, c}), in({r, c})},
          BUILD(ops::huber(g, x[0], ops::scale(g, x[1], -1.0f))))
        .domain(0.1, 0.45);
    t.add("huber linear delta 0.1 " + dims({r, c}), {in({r, c}), in({r, c})},
          BUILD(ops::huber(g, x[0], ops::scale(g, x[1], -1.0f), 0.1f)))
        .domain(0.1, 0.45);
    t.add("binary_cross_entropy " + dims({r, c}), {in({r, c}), binary_labels({r, c})},
          BUILD(ops::binary_cross_entropy(g, x[0], x[1])))
        .domain(-6, 6);
  });
  t.add("softmax rank3 [2,5,7]", {in({2, 5, 7})}, BUILD(ops::softmax(g, x[0])));
  t.add("softmax_cross_entropy sparse batch [N,5]", {in({Shape::kBatch, 5}), class_indices(Shape::kBatch, 5)},
        BUILD(ops::softmax_cross_entropy(g, x[0], x[1], true)))
      .with_batch(4);
  // Targets that do not sum to one (class weights scale a row's one-hot): d/dx = p sum(t) - t.
  t.add("softmax_cross_entropy weighted [9,5]", {in({9, 5}), soft_labels({9, 5})},
        BUILD(ops::softmax_cross_entropy(g, x[0], ops::scale(g, x[1], 2.5f), false)))
      .domain(-3, 3);
  t.add("softmax_cross_entropy weighted [7,33]", {in({7, 33}), soft_labels({7, 33})},
        BUILD(ops::softmax_cross_entropy(g, x[0], ops::scale(g, x[1], 0.4f), false)))
      .domain(-3, 3);
  // Large logits: the stable form stays finite where log(sigmoid(z)) would not.
  t.add("binary_cross_entropy large logits [5,3]", {in({5, 3}), binary_labels({5, 3})},
        BUILD(ops::binary_cross_entropy(g, ops::scale(g, x[0], 40.0f), x[1])))
      .tolerance(1e-4, 1e-5);
  t.add("binary_cross_entropy soft targets [7,4]", {in({7, 4}), soft_labels({7, 4})},
        BUILD(ops::binary_cross_entropy(g, x[0], x[1])))
      .domain(-3, 3);
  weighted_loss_rows(t);
}

void reduction_and_shape_rows(Table& t) {
  sweep([&](int64_t r, int64_t c) {
    const double atol = 1e-6 * static_cast<double>(r * c) + 1e-5;
    t.add("sum_rows " + dims({r, c}), {in({r, c})}, BUILD(ops::sum_rows(g, x[0]))).tolerance(atol, 1e-5);
    t.add("sum " + dims({r, c}), {in({r, c})}, BUILD(ops::sum(g, x[0]))).tolerance(atol, 1e-5);
    t.add("mean " + dims({r, c}), {in({r, c})}, BUILD(ops::mean(g, x[0]))).tolerance(atol, 1e-5);
  });
  t.add("sum_rows rank3 [2,5,7]", {in({2, 5, 7})}, BUILD(ops::sum_rows(g, x[0])));
  t.add("reshape [6,35]->[35,6]", {in({6, 35})}, BUILD(ops::reshape(g, x[0], Shape{35, 6})));
  t.add("reshape flatten [N,2,3] then reductions", {in({Shape::kBatch, 2, 3})},
        BUILD(ops::add(g, ops::sum(g, ops::sum_rows(g, ops::flatten(g, x[0]))), ops::mean(g, ops::flatten(g, x[0])))))
      .with_batch(3);
}

void composite_rows(Table& t) {
  // A dense layer (the fused matmul epilogue: bias, activation) and a value used three times
  // (its gradients are summed).
  for (int64_t n : {1, 3, 33, 129}) {
    t.add("dense " + dims({n, 31}) + "x[31,17]", {in({n, 31}), in({31, 17}), in({17})},
          BUILD(ops::activation(g, ops::add(g, ops::matmul(g, x[0], x[1]), x[2]), test_scaled_tanh(), {1.0})))
        .tolerance(1e-4, 1e-4);
  }
  t.add("fan_out [3,4]", {in({3, 4})},
        BUILD(ops::add(g, ops::mul(g, x[0], x[0]), ops::activation(g, x[0], test_sigmoid(), {}))));
}

}  // namespace

const std::vector<Case>& consistency_cases() {
  static const std::vector<Case> rows = [] {
    Table t;
    matmul_rows(t);
    elementwise_rows(t);
    activation_rows(t);
    softmax_and_loss_rows(t);
    reduction_and_shape_rows(t);
    composite_rows(t);
    image_rows(t);
    layers_rows(t);
    return std::move(t.rows);
  }();
  return rows;
}

}  // namespace graphrun::testing
