#pragma once
// Invariants that must never break, checked in every build type (release included).
//
// MKT_INVARIANT(cond, "what") prints the file, line and message to stderr and aborts when cond is
// false. Use it for the program's own state, never for peer or user input: input is validated and
// rejected with an error instead.

namespace mkt::core {

[[noreturn]] void invariant_failed(const char* file, int line, const char* condition,
                                   const char* message) noexcept;

}  // namespace mkt::core

#define MKT_INVARIANT(cond, message)                                       \
  do {                                                                     \
    if (!(cond)) [[unlikely]] {                                            \
      ::mkt::core::invariant_failed(__FILE__, __LINE__, #cond, (message)); \
    }                                                                      \
  } while (false)
