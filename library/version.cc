// The library's version, and the one symbol libgraphrun.so is built around.
#include "graphrun/version.h"

namespace graphrun {

const char* version() { return GRAPHRUN_VERSION; }

}  // namespace graphrun
