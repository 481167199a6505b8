#pragma once
// Small, fixed hashes with the same output on every build: FNV-1a over bytes (the ledger's hash,
// keys from names) and SplitMix64 (a seeded sequence, or a well-mixed hash of one number: the
// counter-based draws of the agents' fundamental value, Raft's election jitter).

#include <cstdint>
#include <string_view>

namespace mkt::core {

inline constexpr std::uint64_t fnv1a64_offset = 0xcbf29ce484222325ULL;

// FNV-1a, 64 bits; `h` continues an earlier hash.
constexpr std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t h = fnv1a64_offset) {
  for (char c : bytes) h = (h ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

// SplitMix64: advances `state` and returns the next value of its sequence.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A well-mixed hash of one number: the SplitMix64 value that follows it.
constexpr std::uint64_t mix64(std::uint64_t value) {
  return splitmix64(value);
}

// The top 53 bits of `bits` as a double in [0, 1).
constexpr double unit_interval(std::uint64_t bits) {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

}  // namespace mkt::core
