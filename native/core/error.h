// The C++ layer's invariant checks. They throw sepconv::Error, which the addon turns into
// a JS Error; nothing below native/addon aborts the process.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace sepconv {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... R>
void append(std::ostringstream& os, const T& v, const R&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

template <class... A>
[[noreturn]] void fail(const A&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  throw Error(os.str());
}

}  // namespace sepconv

// SEPCONV_CHECK(cond, "conv2d: ", "weight has ", n, " dims") — message parts are streamed.
#define SEPCONV_CHECK(cond, ...)            \
  do {                                      \
    if (!(cond)) ::sepconv::fail(__VA_ARGS__); \
  } while (0)
