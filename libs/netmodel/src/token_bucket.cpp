#include "mkt/netmodel/token_bucket.h"

#include <algorithm>

#include "mkt/core/invariant.h"

namespace mkt::netmodel {

TokenBucket::TokenBucket(std::int64_t rate_kbps, std::int64_t burst_bytes,
                         std::int64_t queue_limit_bytes)
    : rate_kbps_(rate_kbps), burst_bytes_(burst_bytes), queue_limit_bytes_(queue_limit_bytes) {
  MKT_INVARIANT(rate_kbps > 0 && burst_bytes >= 0 && queue_limit_bytes >= 0,
                "a token bucket needs a positive rate");
}

std::int64_t TokenBucket::ns_for(std::int64_t bytes) const {
  // bytes * 8 bits / (kbps * 1000 bits/s) in ns = bytes * 8e6 / kbps.
  return bytes * 8'000'000 / rate_kbps_;
}

std::int64_t TokenBucket::backlog_ns(std::int64_t now_ns) const {
  return std::max<std::int64_t>(0, tat_ns_ - ns_for(burst_bytes_) - now_ns);
}

std::optional<std::int64_t> TokenBucket::admit(std::int64_t now_ns, std::int64_t bytes) {
  if (backlog_ns(now_ns) > ns_for(queue_limit_bytes_)) return std::nullopt;
  const std::int64_t tat = std::max(tat_ns_, now_ns) + ns_for(bytes);
  const std::int64_t leave = std::max(now_ns, tat - ns_for(burst_bytes_));
  tat_ns_ = tat;
  return leave;
}

std::int64_t TokenBucket::room_at(std::int64_t now_ns) const {
  return std::max(now_ns, tat_ns_ - ns_for(burst_bytes_) - ns_for(queue_limit_bytes_));
}

void TokenBucket::set_rate_kbps(std::int64_t rate_kbps) {
  MKT_INVARIANT(rate_kbps > 0, "a token bucket needs a positive rate");
  rate_kbps_ = rate_kbps;
}

}  // namespace mkt::netmodel
