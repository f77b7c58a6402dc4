// Rows of the consistency table (consistency.h) for batch norm, layer norm, dropout, concat and
// slice: odd shapes and the vector-width edges, in training and in inference mode. Batch norm's
// running statistics are parameters of the row (row_values fills them), and after a training
// run they are compared too (the running-statistics update).
#include "ops/layers.h"
#include "tests/backends/consistency.h"

namespace graphrun::testing {
namespace {

// batch_norm of x with gamma and beta as inputs (differentiated) and the running statistics
// as state parameters.
NodeId batch_norm_row(Graph& g, const Inputs& x) {
  const Shape c{g.shape(x[0])[1]};
  NodeId mean = g.parameter("bn.running_mean", c, Initializer::zeros(), false);
  NodeId var = g.parameter("bn.running_var", c, Initializer::constant(1.0), false);
  return ops::batch_norm(g, x[0], x[1], x[2], mean, var, 0.9f, 1e-3f, "bn");
}

void batch_norm_rows(Table& t) {
  const Shape shapes[] = {{2, 3},       {7, 17},       {33, 65},     {5, 129},      {64, 784},
                          {2, 3, 5, 7}, {3, 17, 3, 3}, {1, 4, 7, 7}, {4, 33, 2, 9}, {8, 16, 14, 14}};
  for (const Shape& s : shapes) {
    for (bool training : {true, false}) {
      if (training && s.numel() / s[1] < 2) continue;  // one value per channel: no batch statistics
      Case& c = t.add(std::string("batch_norm ") + (training ? "training " : "inference ") + s.str(),
                      {in(s), in({s[1]}), in({s[1]})}, [](Graph& g, const Inputs& x) { return batch_norm_row(g, x); });
      c.tolerance(1e-4, 1e-4).domain(-2.0, 3.0);
      if (training) c.in_training();
    }
  }
}

void layer_norm_rows(Table& t) {
  struct Row {
    Shape x;
    int32_t axis;
  };
  const Row rows[] = {{{3, 2}, -1},    {{5, 17}, -1},  {{2, 65}, -1},      {{7, 129}, -1},
                      {{33, 784}, -1}, {{2, 3, 5}, 1}, {{3, 4, 3, 7}, -1}, {{2, 8, 7, 7}, 1}};
  for (const Row& r : rows) {
    Shape p;
    for (int i = r.axis < 0 ? r.x.rank() + r.axis : r.axis; i < r.x.rank(); ++i) p.push_back(r.x[i]);
    const int32_t axis = r.axis;
    t.add("layer_norm " + r.x.str() + " axis " + std::to_string(axis), {in(r.x), in(p), in(p)},
          BUILD(ops::layer_norm(g, x[0], x[1], x[2], axis, 1e-3f)))
        .tolerance(1e-4, 1e-4)
        .domain(-2.0, 3.0);
  }
}

void dropout_rows(Table& t) {
  for (int64_t n : {1, 7, 17, 129, 1000}) {
    for (float rate : {0.3f, 0.5f}) {
      t.add("dropout training " + std::to_string(n) + " rate " + std::to_string(rate), {in({3, n})},
            BUILD(ops::dropout(g, x[0], rate)))
          .in_training()
          .fd(1e-7);
    }
  }
  t.add("dropout inference [3,17]", {in({3, 17})}, BUILD(ops::dropout(g, x[0], 0.5f)));
}

void concat_and_slice_rows(Table& t) {
  t.add("concat channels [2,2,3,5]+[2,4,3,5]", {in({2, 2, 3, 5}), in({2, 4, 3, 5})},
        BUILD(ops::concat(g, {x[0], x[1]}, 1)));
  t.add("concat height [2,2,1,5]+[2,2,3,5]+[2,2,2,5]", {in({2, 2, 1, 5}), in({2, 2, 3, 5}), in({2, 2, 2, 5})},
        BUILD(ops::concat(g, {x[0], x[1], x[2]}, 2)));
  t.add("concat width [3,2,3,7]+[3,2,3,1]", {in({3, 2, 3, 7}), in({3, 2, 3, 1})},
        BUILD(ops::concat(g, {x[0], x[1]}, -1)));
  for (int64_t n : {1, 7, 17, 129, 784}) {
    t.add("concat features [5," + std::to_string(n) + "]+[5,3]", {in({5, n}), in({5, 3})},
          BUILD(ops::concat(g, {x[0], x[1]}, 1)));
  }
  t.add("concat batch [N,3]+[N,2]", {in({Shape::kBatch, 3}), in({Shape::kBatch, 2})},
        BUILD(ops::concat(g, {x[0], x[1]}, 1)))
      .with_batch(4);
  // slice has no gradient of its own (it is concat's): its operand is not differentiated.
  const Operand image{Shape{2, 6, 3, 5}, Fill::kUniform, 0, false};
  t.add("slice channels [2,6,3,5] 1:4", {image}, BUILD(ops::slice(g, x[0], 1, 1, 3)));
  t.add("slice width [2,6,3,5] 4:5", {image}, BUILD(ops::slice(g, x[0], 3, 4, 1)));
  t.add("slice features [7,129] 5:70", {Operand{Shape{7, 129}, Fill::kUniform, 0, false}},
        BUILD(ops::slice(g, x[0], 1, 5, 65)));
}

}  // namespace

void layers_rows(Table& t) {
  batch_norm_rows(t);
  layer_norm_rows(t);
  dropout_rows(t);
  concat_and_slice_rows(t);
}

}  // namespace graphrun::testing
