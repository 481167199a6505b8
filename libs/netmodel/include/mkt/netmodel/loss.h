#pragma once
// Segment loss: the Gilbert-Elliott model, a two-state Markov chain (good, bad) with a loss
// probability in each state. Bernoulli loss is the one-state special case. Probabilities in ppm.
//
// Stationary loss rate: (r * k + p * h) / (p + r); with k = 0 and h = 1 the mean burst of
// consecutive losses is 1 / r segments.

#include <cstdint>

#include "mkt/netmodel/random.h"

namespace mkt::netmodel {

class GilbertElliott {
 public:
  // p: good -> bad per segment; r: bad -> good; k: loss in good; h: loss in bad.
  GilbertElliott(std::uint32_t p_ppm, std::uint32_t r_ppm, std::uint32_t k_ppm, std::uint32_t h_ppm)
      : p_(p_ppm), r_(r_ppm), k_(k_ppm), h_(h_ppm) {}
  static GilbertElliott bernoulli(std::uint32_t loss_ppm) { return {0, 1'000'000, loss_ppm, 0}; }

  // Whether the next segment is lost.
  bool lose(Rng& rng) {
    bad_ = bad_ ? !chance_ppm(rng, r_) : chance_ppm(rng, p_);
    return chance_ppm(rng, bad_ ? h_ : k_);
  }
  double stationary_loss() const {
    if (p_ == 0) return static_cast<double>(k_) / 1e6;
    const double p = p_, r = r_;
    return (r * k_ + p * h_) / (p + r) / 1e6;
  }

 private:
  std::uint32_t p_, r_, k_, h_;
  bool bad_ = false;
};

}  // namespace mkt::netmodel
