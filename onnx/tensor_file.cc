#include "onnx/tensor_file.h"

#include <onnx/onnx_pb.h>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "io/atomic_file.h"
#include "onnx/import.h"

namespace graphrun::onnx_io {

OnnxTensor read_tensor_file(const std::string& path, std::string* name) {
  const std::vector<std::byte> bytes = io::read_file(path, kOnnxMaxFileBytes);
  ::onnx::TensorProto t;
  if (!t.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw Error(ErrorKind::BadInput, path + ": not an ONNX TensorProto");
  }
  if (name) *name = t.name();
  return decode_tensor(t, std::filesystem::path(path).parent_path().string(), path);
}

std::vector<std::string> model_op_types(const std::string& path) {
  const std::vector<std::byte> bytes = io::read_file(path, kOnnxMaxFileBytes);
  ::onnx::ModelProto m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw Error(ErrorKind::BadInput, path + ": not an ONNX model");
  }
  std::set<std::string> ops;
  for (const auto& n : m.graph().node()) ops.insert(n.op_type());
  return {ops.begin(), ops.end()};
}

}  // namespace graphrun::onnx_io
