// ONNX TensorProto <-> graphrun tensors, for untrusted files.
//
// decode_tensor checks everything a TensorProto declares before it allocates: the element
// type, the rank, each dimension and their product (overflow and kOnnxMaxElements), and that
// the data present (raw_data, the typed repeated field, or external data) holds exactly that
// many elements. External data is read only from a file inside the model's folder (no absolute
// path, no "..", no symbolic link leading out), within the bytes that file has.
// Every error is Error(BadInput), one line naming `where` (file and tensor or node).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace onnx {
class TensorProto;
}

namespace graphrun::onnx_io {

inline constexpr uint64_t kOnnxMaxElements = uint64_t{1} << 31;  // per tensor (8 GiB of f32)

// A decoded tensor: float data for FLOAT/DOUBLE (as f32), int64 data for INT64/INT32 (shape
// and axis operands). Other element types are refused by decode_tensor.
struct OnnxTensor {
  int32_t elem_type = 0;  // onnx::TensorProto::DataType
  std::vector<int64_t> dims;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  bool is_float() const { return elem_type == 1 || elem_type == 11; }
  uint64_t numel() const;
};

// model_dir: the folder external data is resolved against; empty refuses external data.
OnnxTensor decode_tensor(const ::onnx::TensorProto& t, const std::string& model_dir, const std::string& where);

// A graphrun f32 tensor as the float data of `value` (rank <= Shape::kMaxRank).
Tensor to_tensor(const OnnxTensor& value, const std::string& where);

// Fills a TensorProto with an f32 tensor (raw_data, little-endian).
void encode_tensor(const Tensor& value, const std::string& name, ::onnx::TensorProto& out);

// The name of an ONNX element type ("float", "int64", ...), for messages.
const char* elem_type_name(int32_t elem_type);

}  // namespace graphrun::onnx_io
