// Adaptive selection among strategies: a bandit over their realized profit and loss.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "mkt/agents/strategies.h"
#include "mkt/agents/trader.h"

namespace mkt::agents {

Bandit::Bandit(std::size_t arms, Algorithm algorithm, double exploration)
    : algorithm_(algorithm),
      exploration_(exploration),
      plays_(arms, 0),
      rewards_(arms, 0),
      weights_(arms, 1),
      last_p_(arms, arms > 0 ? 1.0 / static_cast<double>(arms) : 0) {}

double Bandit::mean(std::size_t arm) const {
  return plays_[arm] == 0 ? 0 : rewards_[arm] / static_cast<double>(plays_[arm]);
}

double Bandit::probability(std::size_t arm) const {
  return algorithm_ == Algorithm::exp3 ? last_p_[arm] : 0;
}

std::size_t Bandit::choose(Random& random) {
  const std::size_t k = plays_.size();
  if (algorithm_ == Algorithm::ucb1) {
    for (std::size_t i = 0; i < k; ++i) {
      if (plays_[i] == 0) return i;  // each arm once first
    }
    const double n = static_cast<double>(std::accumulate(plays_.begin(), plays_.end(), 0ULL));
    std::size_t best = 0;
    double best_score = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < k; ++i) {
      const double score =
          mean(i) + exploration_ * std::sqrt(std::log(n) / static_cast<double>(plays_[i]));
      if (score > best_score) best = i, best_score = score;
    }
    return best;
  }
  const double gamma = std::clamp(exploration_, 0.0, 1.0);
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  for (std::size_t i = 0; i < k; ++i) {
    last_p_[i] = (1 - gamma) * weights_[i] / total + gamma / static_cast<double>(k);
  }
  double u = random.uniform();
  for (std::size_t i = 0; i < k; ++i) {
    if (u < last_p_[i]) return i;
    u -= last_p_[i];
  }
  return k - 1;
}

void Bandit::reward(std::size_t arm, double reward) {
  reward = std::clamp(reward, 0.0, 1.0);
  ++plays_[arm];
  rewards_[arm] += reward;
  if (algorithm_ == Algorithm::exp3) {
    const double gamma = std::clamp(exploration_, 0.0, 1.0);
    const double k = static_cast<double>(weights_.size());
    weights_[arm] *= std::exp(gamma * reward / (std::max(last_p_[arm], 1e-12) * k));
    // Scaled down together so that they never overflow (only their ratios matter).
    const double top = *std::max_element(weights_.begin(), weights_.end());
    for (double& w : weights_) w = std::max(w / top, 1e-300);
  }
}

AdaptiveTrader::AdaptiveTrader(AdaptiveParams params, std::vector<std::unique_ptr<Strategy>> arms)
    : params_(params),
      arms_(std::move(arms)),
      bandit_(arms_.size(), params_.algorithm, params_.exploration) {}

std::int64_t AdaptiveTrader::interval_ms() const {
  // Its strategy's pace, but it also looks in at the end of each episode.
  return std::min(arms_[current_]->interval_ms(), params_.episode_ms);
}

void AdaptiveTrader::decide(View& view, Decisions& out) {
  const std::int64_t now = view.now_ns();
  if (!started_ || now >= episode_end_ns_) {
    if (started_) {
      const double gained = static_cast<double>(view.pnl_cents() - episode_start_pnl_);
      bandit_.reward(current_, 1 / (1 + std::exp(-gained / params_.reward_scale_cents)));
      // The next strategy starts clean: what the last one left open is cancelled.
      for (const OwnOrder* order : view.live_orders()) out.cancels.push_back(order->id);
    }
    started_ = true;
    current_ = bandit_.choose(view.random());
    episode_end_ns_ = now + params_.episode_ms * 1'000'000;
    episode_start_pnl_ = view.pnl_cents();
  }
  arms_[current_]->decide(view, out);
}

}  // namespace mkt::agents
