// A minimal test registry for the CUDA kernel runner: cases register themselves, checks throw
// with a message naming the op and the shapes, main() runs them all (or those matching argv).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"

namespace sepconv::cuda::test {

struct Case {
  std::string name;
  std::function<void()> run;
};

std::vector<Case>& cases();

struct Register {
  Register(const char* name, std::function<void()> run) { cases().push_back({name, std::move(run)}); }
};

}  // namespace sepconv::cuda::test

#define SEPCONV_TEST_CONCAT2(a, b) a##b
#define SEPCONV_TEST_CONCAT(a, b) SEPCONV_TEST_CONCAT2(a, b)
// TEST_CASE("gemm") { ... } defines and registers a case.
#define TEST_CASE(name)                                                                              \
  static void SEPCONV_TEST_CONCAT(test_fn_, __LINE__)();                                              \
  static ::sepconv::cuda::test::Register SEPCONV_TEST_CONCAT(test_reg_, __LINE__)(                    \
      name, SEPCONV_TEST_CONCAT(test_fn_, __LINE__));                                                 \
  static void SEPCONV_TEST_CONCAT(test_fn_, __LINE__)()

#define EXPECT(cond, ...) SEPCONV_CHECK(cond, "expectation failed: " #cond ": ", __VA_ARGS__)
