// Trains the tutorial's first network on Fashion-MNIST through graphrun's C++ API:
// 784 pixels scaled to [0, 1] (plus a bias, which is the tutorial's constant-1 column)
// -> 400 sigmoid -> 10 softmax, weights N(0, 1), cross-entropy, per-sample SGD at lr 0.01,
// three passes over the 60000 training images. The tutorial reports test accuracy 0.8242.
//
//   train_seed [DATA_DIR] [EPOCHS] [--threads N]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <graphrun/graphrun.h>

int main(int argc, char** argv) {
  std::string dir = "/usr/share/datasets/fashion-mnist";
  int64_t epochs = 3;
  int threads = 0;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (positional++ == 0) {
      dir = argv[i];
    } else {
      epochs = std::atoll(argv[i]);
    }
  }
  try {
    using namespace graphrun;
    io::Dataset train = io::load_idx_dataset(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz");
    io::Dataset test = io::load_idx_dataset(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz");
    // Pixels / 255, fitted on the training data only.
    io::Scaler scaler = io::fit_scaler(io::Scaling::MinMaxGlobal, train.features);
    io::apply_scaler(scaler, train.features);
    io::apply_scaler(scaler, test.features);

    train::SequentialSpec spec;
    spec.inputs = train.feature_count();
    train::Layer hidden = train::dense_layer("hidden", 400, "sigmoid");
    hidden.init = hidden.bias_init = Initializer::normal(0, 1);
    train::Layer output = train::dense_layer("output", 10, "softmax");
    output.init = Initializer::normal(0, 1);
    output.use_bias = false;
    spec.layers = {hidden, output};
    train::Model model = train::build_sequential(spec, PluginRegistry::global());
    ParameterStore params = ParameterStore::initialize(model.graph, /*seed=*/0);

    train::TrainConfig config;
    config.batch_size = 1;
    config.optimizer = "sgd";
    config.learning_rate = 0.01;
    config.threads = threads;
    train::Trainer trainer(model, params, config, PluginRegistry::global());
    std::printf("training %lld samples, %lld parameters, %d threads\n", static_cast<long long>(train.size()),
                static_cast<long long>(params.total_elements()), trainer.pool().size());
    for (int64_t e = 0; e < epochs; ++e) {
      train::EpochResult r = trainer.train_epoch(train);
      train::Evaluation t = trainer.evaluate(test);
      std::printf("epoch %lld: loss %.4f  accuracy %.4f  test accuracy %.4f  %.0f samples/s  %.1f s\n",
                  static_cast<long long>(e + 1), r.loss, r.accuracy, t.accuracy, r.samples_per_second, r.seconds);
      std::fflush(stdout);
    }
    train::Evaluation t = trainer.evaluate(test);
    std::printf("test accuracy %.4f (the tutorial: 0.8242)\n", t.accuracy);
  } catch (const graphrun::Error& e) {
    std::fprintf(stderr, "train_seed: %s\n", e.what());
    return e.is_bad_input() ? 2 : 1;
  }
  return 0;
}
