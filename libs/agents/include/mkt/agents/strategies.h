#pragma once
// The strategies, each with its parameters (the scenario's strategy_config keys, in the units
// their names end with). The meaning of each parameter is written next to it; src/setup.cpp maps
// the scenario's keys onto them, with the defaults.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mkt/agents/coordination.h"
#include "mkt/agents/strategy.h"

namespace mkt::agents {

// Zero intelligence: every interval, one limit order on a random venue and symbol, of a random
// side, priced uniformly within price_range_ticks of the venue's mid (else its last trade, else
// the reference price). Orders older than order_lifetime_ms are cancelled.
struct NoiseParams {
  std::int64_t order_interval_ms = 1000;
  std::int64_t quantity_lots_max = 10;
  std::int64_t price_range_ticks = 10;
  std::int64_t order_lifetime_ms = 10'000;
};

class NoiseTrader final : public Strategy {
 public:
  explicit NoiseTrader(NoiseParams params) : params_(params) {}
  std::string_view name() const override { return "noise"; }
  std::int64_t interval_ms() const override { return params_.order_interval_ms; }
  void decide(View& view, Decisions& out) override;

 private:
  NoiseParams params_;
};

// How an agent sees the fundamental value: through Gaussian noise (observation_noise_ticks per
// symbol, default_noise_ticks for others), once per decision every interval_ms. It keeps a Kalman
// estimate per symbol, whose process noise is the market's daily volatility scaled to the
// interval, and also takes in the fair values its trusted peers share, each once, as observations
// whose variance is its own noise's over the signal's weight.
struct ValueSight {
  std::map<std::string, double> observation_noise_ticks;
  double default_noise_ticks = 50;
  std::uint32_t volatility_ppm = 20'000;
};

class ValueEstimate {
 public:
  struct Belief {
    double value = 0;  // ticks; 0 before the first observation
    double variance = 0;
  };
  ValueEstimate(ValueSight sight, std::int64_t interval_ms)
      : sight_(std::move(sight)), interval_ms_(interval_ms) {}
  // Looks at the symbol's value now (and at peers' new fair values) and returns the estimate.
  const Belief& update(View& view, const SymbolInfo& symbol);
  double value(const std::string& symbol) const;

 private:
  ValueSight sight_;
  std::int64_t interval_ms_;
  std::map<std::string, Belief> beliefs_;
  std::map<std::string, std::int64_t> heard_until_ns_;  // origin -> newest fair value taken
};

// A value trader (ABIDES's ValueAgent): it estimates the fundamental value (ValueEstimate), pulls
// the estimate towards the long-run mean by mean_reversion (0 to 1), and trades towards it: it
// buys when the estimate is above the mid (crossing asks up to the estimate), sells when below,
// one order per symbol at a time.
struct ValueParams {
  std::int64_t order_interval_ms = 1000;
  std::int64_t quantity_lots_max = 10;
  ValueSight sight;
  double mean_reversion = 0;
};

class ValueTrader final : public Strategy {
 public:
  explicit ValueTrader(ValueParams params)
      : params_(params), estimate_(params_.sight, params_.order_interval_ms) {}
  std::string_view name() const override { return "value"; }
  std::int64_t interval_ms() const override { return params_.order_interval_ms; }
  void decide(View& view, Decisions& out) override;
  // The current estimate of a symbol's value, in ticks (0 before the first observation).
  double estimate(const std::string& symbol) const { return estimate_.value(symbol); }

 private:
  ValueParams params_;
  ValueEstimate estimate_;
};

// A market maker in the style of Avellaneda and Stoikov. Around the mid s of what the rest of
// the market quotes (its own quotes taken out; else the last trade, else the reference price) it
// quotes a reservation price r = s - q * risk_aversion * sigma^2, where q is its position in
// quotes (lots / quote_quantity_lots) and sigma^2 the variance of s's change per refresh, in
// ticks^2, measured as it goes, with a half spread of spread_ticks / 2 + risk_aversion * sigma^2
// / 2. sigma^2 is held to (4 * spread_ticks)^2 and the skew to 4 * spread_ticks, so that a burst of
// moves cannot send its quotes away from the market. Quotes are post-only, replaced when they
// are off the wanted price every refresh_ms, and the side that would grow the position beyond
// position_limit_lots is not quoted.
struct MarketMakerParams {
  std::int64_t spread_ticks = 4;
  std::int64_t quote_quantity_lots = 10;
  double risk_aversion = 0.1;
  std::int64_t refresh_ms = 1000;
  std::int64_t position_limit_lots = 1000;
};

class MarketMaker final : public Strategy {
 public:
  explicit MarketMaker(MarketMakerParams params) : params_(params) {}
  std::string_view name() const override { return "market_maker"; }
  std::int64_t interval_ms() const override { return params_.refresh_ms; }
  void decide(View& view, Decisions& out) override;

  struct Quote {
    std::int64_t bid = 0;  // 0: no bid
    std::int64_t ask = 0;  // 0: no ask
  };
  // The quotes it wants for a mid, a position and a variance (for the tests).
  Quote quotes(std::int64_t mid_ticks, std::int64_t position_lots, double variance) const;

 private:
  struct Track {
    std::int64_t last_mid = 0;
    double variance = 1;
  };
  MarketMakerParams params_;
  std::map<std::string, Track> tracks_;  // "<venue>/<symbol>"
};

// Trend and contrarian traders over a window of prices sampled every sample_interval_ms (the last
// trade of the first venue with a book, else its mid):
// - momentum: the move over the window, relative to its start, must reach threshold, and the
//   share of the window's price changes that go the same way (its confidence) must reach
//   confidence_threshold; it then holds quantity_lots in the move's direction, and goes flat when
//   the move falls below half the threshold.
// - mean reversion: the deviation of the price from the window's mean, relative to it, must reach
//   threshold, with confidence min(1, deviation / (2 * threshold)); it then holds quantity_lots
//   against the deviation, flat again below half the threshold.
// Both take liquidity with IOC orders priced at the touch; with share_signals they tell their
// peers what they saw (a buy or sell signal with the confidence).
struct WindowParams {
  std::int64_t window = 20;
  double threshold = 0.02;
  double confidence_threshold = 0.7;
  std::int64_t quantity_lots = 10;
  std::int64_t sample_interval_ms = 1000;
  bool share_signals = false;
};

class WindowTrader final : public Strategy {
 public:
  enum class Kind : std::uint8_t { momentum, mean_reversion };
  WindowTrader(Kind kind, WindowParams params) : kind_(kind), params_(params) {}
  std::string_view name() const override {
    return kind_ == Kind::momentum ? "momentum" : "mean_reversion";
  }
  std::int64_t interval_ms() const override { return params_.sample_interval_ms; }
  void decide(View& view, Decisions& out) override;

  struct Reading {
    double move = 0;        // momentum: relative move; mean reversion: relative deviation
    double confidence = 0;  // 0 to 1
    int target = 0;         // -1 short, 0 flat, 1 long, 2 hold what it has
  };
  // What a window of prices says (oldest first), for the tests.
  Reading read(const std::deque<std::int64_t>& prices) const;

 private:
  Kind kind_;
  WindowParams params_;
  std::map<std::string, std::deque<std::int64_t>> prices_;
  std::map<std::string, std::int64_t> target_lots_;
};

// Cross-venue arbitrage: on every book change it looks for a venue whose best bid is above
// another's best ask by more than the fees of both legs (fee_ticks per lot each), the price move
// expected while its orders travel (the symbol's volatility over half the slower venue's measured
// round trip) and min_profit (a fraction of the price). It fires both legs at once as IOC orders
// at the touch, at most quantity_lots. A leg that fills alone leaves a position: it is unwound
// with IOC orders at the best price on any venue, and with a market order once it has been held
// for max_holding_ms.
struct ArbitrageParams {
  double min_profit = 0.001;
  std::int64_t max_holding_ms = 300'000;
  std::int64_t quantity_lots = 10;
  std::int64_t fee_ticks = 0;
  std::uint32_t volatility_ppm = 20'000;  // the market's daily volatility
  std::int64_t interval_ms = 100;
};

class Arbitrageur final : public Strategy {
 public:
  explicit Arbitrageur(ArbitrageParams params) : params_(params) {}
  std::string_view name() const override { return "arbitrage"; }
  std::int64_t interval_ms() const override { return params_.interval_ms; }
  bool reacts_to_books() const override { return true; }
  void decide(View& view, Decisions& out) override;

  std::uint64_t fired() const { return fired_; }
  std::uint64_t unwinds() const { return unwinds_; }
  // The smallest edge (ticks per lot) it takes on a symbol at a price, given the slower leg's
  // round trip.
  double hurdle_ticks(std::int64_t price_ticks, std::int64_t round_trip_ns) const;

 private:
  void unwind(View& view, const std::string& symbol, std::int64_t position, Decisions& out);

  ArbitrageParams params_;
  std::map<std::string, std::int64_t> exposed_since_ns_;
  std::uint64_t fired_ = 0;
  std::uint64_t unwinds_ = 0;
};

// A member of a coalition (the coordinated strategy). Every interval_ms it estimates each
// symbol's value (ValueEstimate) and asks how likely the value is beyond the rest of the market's
// touch on a venue: P(value > best ask) for a buy, P(value < best bid) for a sell, with the
// estimate taken as normal. At confidence_threshold or above it asks its coalition to trade with
// it (Decisions::coordinated): every member quantity_lots at the touch or better. It does not
// trade alone; agentd runs the two-phase protocol (Coordination) with `coordination`'s group
// size and timeout.
struct CoordinatedParams {
  std::int64_t interval_ms = 500;
  double confidence_threshold = 0.8;
  std::int64_t quantity_lots = 5;
  ValueSight sight;
  CoordinationParams coordination;
};

class CoordinatedTrader final : public Strategy {
 public:
  explicit CoordinatedTrader(CoordinatedParams params)
      : params_(params), estimate_(params_.sight, params_.interval_ms) {}
  std::string_view name() const override { return "coordinated"; }
  std::int64_t interval_ms() const override { return params_.interval_ms; }
  void decide(View& view, Decisions& out) override;
  const CoordinationParams* coordination() const override { return &params_.coordination; }
  // How sure it is that the value is beyond a price: P(value > price) for a buy.
  static double confidence(const ValueEstimate::Belief& belief, std::int64_t price_ticks,
                           Side side);

 private:
  // The first venue and side where the value is sure enough beyond the touch.
  std::optional<CoordinatedTrade> trade(const View& view, const std::string& symbol,
                                        const ValueEstimate::Belief& belief) const;

  CoordinatedParams params_;
  ValueEstimate estimate_;
};

// An information broker: it trades nothing. It collects its peers' signals (all of them are
// judged, see Reputation) and passes to its subscribers those whose origin's reputation is at
// least quality_threshold, at information_value (currency) a signal, to at most subscribers_max
// subscribers.
struct BrokerTerms {
  double quality_threshold = 0.8;
  double information_value = 0.001;
  std::uint32_t subscribers_max = 64;
  // Whether a signal from an origin of this reputation is passed on.
  bool sells(double reputation) const { return reputation >= quality_threshold; }
};

class InformationBroker final : public Strategy {
 public:
  explicit InformationBroker(BrokerTerms terms) : terms_(terms) {}
  std::string_view name() const override { return "information_broker"; }
  std::int64_t interval_ms() const override { return 1000; }
  void decide(View& /*view*/, Decisions& /*out*/) override {}
  const BrokerTerms* broker_terms() const override { return &terms_; }

 private:
  BrokerTerms terms_;
};

// A multi-armed bandit over K choices with rewards in [0, 1]:
// - UCB1: each arm once, then the arm of highest mean + exploration * sqrt(ln n / n_arm);
// - EXP3: draws an arm with p = (1 - exploration) * w / sum(w) + exploration / K, and grows the
//   drawn arm's weight by exp(exploration * reward / (p * K)).
class Bandit {
 public:
  enum class Algorithm : std::uint8_t { ucb1, exp3 };
  Bandit(std::size_t arms, Algorithm algorithm, double exploration);
  std::size_t choose(Random& random);
  void reward(std::size_t arm, double reward);  // of the arm chosen last
  std::uint64_t plays(std::size_t arm) const { return plays_[arm]; }
  double mean(std::size_t arm) const;
  double probability(std::size_t arm) const;  // EXP3's draw probability (UCB1: 0)

 private:
  Algorithm algorithm_;
  double exploration_;
  std::vector<std::uint64_t> plays_;
  std::vector<double> rewards_;  // summed
  std::vector<double> weights_;  // EXP3
  std::vector<double> last_p_;   // EXP3: the probabilities of the last draw
};

// Adaptive selection: it runs one of its strategies for an episode of episode_ms, rewards it with
// the episode's change of profit and loss (squashed to [0, 1] by a logistic of reward_scale_cents),
// and lets the bandit choose the next. A switch cancels the open orders of the one before; a
// position it left stays (the next strategy trades from it).
struct AdaptiveParams {
  Bandit::Algorithm algorithm = Bandit::Algorithm::ucb1;
  double exploration = 1.41421356;  // UCB1's c; EXP3's gamma (0 to 1)
  std::int64_t episode_ms = 10'000;
  double reward_scale_cents = 1'000;
};

class AdaptiveTrader final : public Strategy {
 public:
  AdaptiveTrader(AdaptiveParams params, std::vector<std::unique_ptr<Strategy>> arms);
  std::string_view name() const override { return "adaptive"; }
  std::int64_t interval_ms() const override;
  bool reacts_to_books() const override { return arms_[current_]->reacts_to_books(); }
  void decide(View& view, Decisions& out) override;
  void on_fill(View& view, const OwnFill& fill) override { arms_[current_]->on_fill(view, fill); }

  std::size_t arms() const { return arms_.size(); }
  std::string_view arm_name(std::size_t arm) const { return arms_[arm]->name(); }
  std::size_t current() const { return current_; }
  const Bandit& bandit() const { return bandit_; }

 private:
  AdaptiveParams params_;
  std::vector<std::unique_ptr<Strategy>> arms_;
  Bandit bandit_;
  std::size_t current_ = 0;
  bool started_ = false;
  std::int64_t episode_end_ns_ = 0;
  std::int64_t episode_start_pnl_ = 0;
};

}  // namespace mkt::agents
