// From a parsed model file (io::ModelFile, plain data) to what the train layer builds from:
// the network (either form) and the training configuration. Command-line overrides
// are applied by the caller to the returned TrainConfig.
#pragma once

#include "io/model_file.h"
#include "train/model.h"
#include "train/trainer.h"

namespace graphrun::train {

NetworkSpec to_network_spec(const io::ModelFile& m);
TrainConfig to_train_config(const io::ModelFile& m);

}  // namespace graphrun::train
