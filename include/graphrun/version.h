// The version of the graphrun library an application runs with.
#pragma once

namespace graphrun {

const char* version();  // "MAJOR.MINOR.PATCH"

}  // namespace graphrun
