#include <cmath>
#include <sstream>
#include <string>

#include "core/op_call.h"

namespace sepconv {

const char* op_name(Op op) {
  const int i = static_cast<int>(op);
  return i >= 0 && i < kOpCount ? schema::kOpSpecs[i].name : "unknown";
}

namespace {

// "x, w[, bias]": the operand list as the schema declares it.
std::string operand_list(const OperandSpec* operands, int count) {
  std::string s;
  for (int i = 0; i < count; ++i) {
    if (operands[i].optional) s += "[";
    s += (i ? ", " : "");
    s += operands[i].name;
    if (operands[i].optional) s += "]";
  }
  return s.empty() ? "none" : s;
}

void check_operand_count(const char* op, const char* side, const OperandSpec* operands, int declared, int given) {
  int required = 0;
  while (required < declared && !operands[required].optional) ++required;
  if (given >= required && given <= declared) return;
  std::ostringstream expected;
  expected << required;
  if (declared != required) expected << " to " << declared;
  fail(op, ": expected ", expected.str(), " ", side, " (", operand_list(operands, declared), "), got ", given);
}

}  // namespace

void check_call(const OpCall& c) {
  const OpSpec& spec = op_spec(c.op);
  check_operand_count(spec.name, "inputs", spec.inputs, spec.num_inputs, c.num_inputs);
  check_operand_count(spec.name, "outputs", spec.outputs, spec.num_outputs, c.num_outputs);
  if (c.num_params != spec.num_params) {
    std::string names;
    for (int i = 0; i < spec.num_params; ++i) names += std::string(i ? ", " : "") + spec.params[i].name;
    fail(spec.name, ": expected ", spec.num_params, " params (", names.empty() ? "none" : names, "), got ", c.num_params);
  }
  for (int i = 0; i < spec.num_params; ++i) {
    const ParamSpec& p = spec.params[i];
    const double v = c.params[i];
    // Integers travel as doubles, exact to 2^53.
    const bool integral = std::isfinite(v) && v == std::floor(v) && std::fabs(v) <= 9007199254740992.0;
    switch (p.type) {
      case ParamType::Float: break;
      case ParamType::Int:
        SEPCONV_CHECK(integral, spec.name, ": param '", p.name, "' must be an integer, got ", v);
        break;
      case ParamType::Bool:
        SEPCONV_CHECK(v == 0 || v == 1, spec.name, ": param '", p.name, "' must be 0 or 1 (a bool), got ", v);
        break;
      case ParamType::Enum:
        SEPCONV_CHECK(integral && v >= 0 && v < p.enum_size, spec.name, ": param '", p.name, "' must be one of ",
                      p.enum_values, ", got ", v);
        break;
    }
  }
}

}  // namespace sepconv
