// The link model with fixed seeds: each delay distribution's mean and spread over many draws, and
// the same draws from the same seed; the token bucket's rate, burst, queue limit and order; the
// Gilbert-Elliott loss rate and burst length against their closed forms; great-circle distance
// and fibre latency on a known route.

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <vector>

#include "mkt/netmodel/delay.h"
#include "mkt/netmodel/geo.h"
#include "mkt/netmodel/loss.h"
#include "mkt/netmodel/token_bucket.h"

using namespace mkt::netmodel;
using mkt::scenario::Distribution;
using mkt::scenario::DistributionKind;

namespace {

struct Moments {
  double mean = 0;
  double std = 0;
  std::int64_t min = INT64_MAX;
};

Moments draw(const Distribution& d, int n = 200'000, std::uint64_t seed = 42) {
  Rng rng(seed);
  double sum = 0, squares = 0;
  Moments m;
  for (int i = 0; i < n; ++i) {
    const auto x = sample_delay_us(d, rng);
    sum += static_cast<double>(x);
    squares += static_cast<double>(x) * static_cast<double>(x);
    m.min = std::min(m.min, x);
  }
  m.mean = sum / n;
  m.std = std::sqrt(squares / n - m.mean * m.mean);
  return m;
}

}  // namespace

TEST_CASE("delay distributions have their means and spreads") {
  Distribution uniform{.kind = DistributionKind::uniform, .min_us = 1000, .max_us = 3000};
  auto m = draw(uniform);
  CHECK(m.mean == Catch::Approx(2000).epsilon(0.01));
  CHECK(m.std == Catch::Approx(2000 / std::sqrt(12.0)).epsilon(0.02));
  CHECK(m.min >= 1000);

  Distribution normal{.kind = DistributionKind::normal, .mean_us = 50'000, .std_us = 10'000};
  m = draw(normal);
  CHECK(m.mean == Catch::Approx(50'000).epsilon(0.01));
  CHECK(m.std == Catch::Approx(10'000).epsilon(0.02));

  Distribution exponential{.kind = DistributionKind::exponential, .min_us = 500, .scale_us = 2000};
  m = draw(exponential);
  CHECK(m.mean == Catch::Approx(2500).epsilon(0.01));
  CHECK(m.std == Catch::Approx(2000).epsilon(0.02));
  CHECK(m.min >= 500);
  CHECK(mean_delay_us(exponential) == 2500);

  Distribution pareto{.kind = DistributionKind::pareto, .scale_us = 1000, .shape_milli = 2500};
  m = draw(pareto);
  CHECK(m.mean == Catch::Approx(mean_delay_us(pareto)).epsilon(0.02));
  CHECK(mean_delay_us(pareto) == Catch::Approx(1000 * 2.5 / 1.5));
  CHECK(m.min >= 1000);

  Distribution constant{.kind = DistributionKind::constant, .value_us = 7};
  m = draw(constant, 1000);
  CHECK((m.mean == 7 && m.std == 0));
}

TEST_CASE("the same seed gives the same delays") {
  Distribution normal{.kind = DistributionKind::normal, .mean_us = 100, .std_us = 30};
  Rng a(7), b(7), c(8);
  std::vector<std::int64_t> x, y, z;
  for (int i = 0; i < 100; ++i) {
    x.push_back(sample_delay_us(normal, a));
    y.push_back(sample_delay_us(normal, b));
    z.push_back(sample_delay_us(normal, c));
  }
  CHECK(x == y);
  CHECK(x != z);
}

TEST_CASE("a token bucket holds its rate after the burst, in order") {
  // 1 Mbit/s = 125000 bytes/s, 15000 bytes of burst, offered far faster than it drains.
  TokenBucket bucket(1000, 15'000, 7'500'000);  // 60 s of queue
  std::int64_t last = 0;
  std::int64_t bytes_by_5s = 0;
  for (std::int64_t i = 0; i < 2000; ++i) {
    const auto leave = bucket.admit(i * 1000, 1500);  // a packet every microsecond
    REQUIRE(leave);
    CHECK(*leave >= last);
    last = *leave;
    if (*leave <= 5'000'000'000) bytes_by_5s += 1500;
    if (i < 10) CHECK(*leave == i * 1000);  // the burst leaves at once
  }
  // Over 5 s: the burst plus 5 s at the rate.
  CHECK(static_cast<double>(bytes_by_5s - 15'000) / 5.0 == Catch::Approx(125'000).epsilon(0.01));
}

TEST_CASE("a full token bucket queue drops and reserves nothing") {
  TokenBucket bucket(8, 0, 2000);  // 1000 bytes/s, 2 s of queue
  CHECK(bucket.admit(0, 1000) == 1'000'000'000);
  CHECK(bucket.admit(0, 1000) == 2'000'000'000);
  CHECK(bucket.admit(0, 1000) == 3'000'000'000);  // 2000 bytes ahead: at the limit
  CHECK(bucket.backlog_ns(0) == 3'000'000'000);
  CHECK_FALSE(bucket.admit(0, 1000));  // 3000 bytes ahead: past the limit
  CHECK(bucket.room_at(0) == 1'000'000'000);
  CHECK(bucket.backlog_ns(0) == 3'000'000'000);
  CHECK(bucket.admit(1'000'000'000, 1000) == 4'000'000'000);
}

TEST_CASE("Gilbert-Elliott loss rate and burst length match their closed forms") {
  GilbertElliott model(10'000, 250'000, 0, 1'000'000);  // p 1%, r 25%, lose all in bad
  Rng rng(1);
  int lost = 0, bursts = 0;
  bool in_burst = false;
  const int n = 2'000'000;
  for (int i = 0; i < n; ++i) {
    const bool l = model.lose(rng);
    lost += l;
    if (l && !in_burst) ++bursts;
    in_burst = l;
  }
  CHECK(static_cast<double>(lost) / n == Catch::Approx(model.stationary_loss()).epsilon(0.03));
  CHECK(model.stationary_loss() == Catch::Approx(0.01 / 0.26));
  CHECK(static_cast<double>(lost) / bursts == Catch::Approx(4.0).epsilon(0.03));  // 1 / r

  GilbertElliott bernoulli = GilbertElliott::bernoulli(20'000);
  lost = 0;
  for (int i = 0; i < n; ++i) lost += bernoulli.lose(rng);
  CHECK(static_cast<double>(lost) / n == Catch::Approx(0.02).epsilon(0.03));
}

TEST_CASE("great-circle distance and fibre latency, New York to London") {
  const double m = great_circle_m(40.7128, -74.0060, 51.5074, -0.1278);
  CHECK(m == Catch::Approx(5'570'000).margin(10'000));
  CHECK(fibre_latency_us(m, 1500, 100) == Catch::Approx(m * 1.5 / 200 + 100).margin(1));
  CHECK(fibre_latency_us(1'000'000, 0, 0) == 5000);  // 5 us per km
  CHECK(great_circle_m(10, 20, 10, 20) == 0);
}
