#pragma once
// How stream writes coalesce (stream.h, client_stream.h): a write takes the first queued message
// and those behind it while, together, they stay within a byte bound.

#include <cstddef>

namespace mkt::runtime::detail {

// How many messages from the front of `queue` (not empty) one write takes: at least one, and none
// beyond the first when `bytes_max` is 0. `message(element)` gives an element's protobuf message.
template <class Queue, class Get>
std::size_t coalescible(const Queue& queue, std::size_t bytes_max, Get message) {
  std::size_t count = 1;
  if (bytes_max == 0) return count;
  std::size_t bytes = message(queue.front()).ByteSizeLong();
  for (; count < queue.size(); ++count) {
    bytes += message(queue[count]).ByteSizeLong();
    if (bytes > bytes_max) break;
  }
  return count;
}

}  // namespace mkt::runtime::detail
