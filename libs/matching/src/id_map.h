#pragma once
// An open-addressing hash map from order id to slot: linear probing, Fibonacci hashing, deletion
// by backward shift (no tombstones), at most half full. Key 0 marks an empty entry, so 0 is not a
// valid key. It exists because the book looks an id up on every cancel and modify, and
// std::unordered_map allocates a node per insert.

#include <cstdint>
#include <vector>

namespace mkt::matching::detail {

class FlatIdMap {
 public:
  static constexpr std::uint32_t absent = ~std::uint32_t{0};

  explicit FlatIdMap(unsigned capacity_log2 = 10) { reset(capacity_log2); }

  std::uint32_t find(std::uint64_t key) const {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      const Entry& entry = entries_[i];
      if (entry.key == key) return entry.value;
      if (entry.key == 0) return absent;
    }
  }

  // False if the key is already present.
  bool insert(std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 2 > entries_.size()) grow();
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      Entry& entry = entries_[i];
      if (entry.key == key) return false;
      if (entry.key == 0) {
        entry = {key, value};
        ++size_;
        return true;
      }
    }
  }

  void erase(std::uint64_t key) {
    std::size_t i = home(key);
    while (entries_[i].key != key) {
      if (entries_[i].key == 0) return;
      i = (i + 1) & mask_;
    }
    // Shift back every following entry of the cluster that may move closer to its home.
    for (std::size_t j = (i + 1) & mask_; entries_[j].key != 0; j = (j + 1) & mask_) {
      const std::size_t h = home(entries_[j].key);
      const bool movable = i <= j ? (h <= i || h > j) : (h <= i && h > j);
      if (movable) {
        entries_[i] = entries_[j];
        i = j;
      }
    }
    entries_[i] = {};
    --size_;
  }

  std::size_t size() const { return size_; }

 private:
  struct Entry {
    std::uint64_t key = 0;
    std::uint32_t value = 0;
  };

  std::size_t home(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_);
  }

  void reset(unsigned capacity_log2) {
    entries_.assign(std::size_t{1} << capacity_log2, Entry{});
    mask_ = entries_.size() - 1;
    shift_ = 64 - capacity_log2;
    log2_ = capacity_log2;
    size_ = 0;
  }

  void grow() {
    std::vector<Entry> old = std::move(entries_);
    reset(log2_ + 1);
    for (const Entry& entry : old) {
      if (entry.key != 0) insert(entry.key, entry.value);
    }
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  unsigned shift_ = 0;
  unsigned log2_ = 0;
  std::size_t size_ = 0;
};

}  // namespace mkt::matching::detail
