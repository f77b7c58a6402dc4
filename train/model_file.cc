#include "train/model_file.h"

namespace graphrun::train {

SequentialSpec to_sequential_spec(const io::ModelFile& m) {
  SequentialSpec spec;
  spec.inputs = m.inputs;
  spec.loss = parse_loss(m.loss, m.path + ": loss");
  spec.context = m.path;
  for (const io::LayerSpec& l : m.layers) {
    DenseLayer d;
    d.name = l.name;
    d.units = l.units;
    d.activation = l.activation;
    d.activation_params = l.activation_params;
    d.init = l.init;
    d.use_bias = l.use_bias;
    d.bias_init = l.bias_init;
    d.trainable = l.trainable;
    spec.layers.push_back(std::move(d));
  }
  return spec;
}

TrainConfig to_train_config(const io::ModelFile& m) {
  TrainConfig c;
  c.epochs = m.epochs;
  c.batch_size = m.batch_size;
  c.shuffle = m.shuffle;
  c.seed = m.seed;
  c.optimizer = m.optimizer;
  c.optimizer_params = m.optimizer_params;
  c.learning_rate = m.learning_rate;
  c.context = m.path;
  return c;
}

}  // namespace graphrun::train
