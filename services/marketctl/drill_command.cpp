// marketctl drill: runs a nemesis schedule (drill.h) against a market while its agents trade,
// records every fault it injected, and always heals at the end. Each fault is carried out by this
// same binary's operating commands (kill, restart, pause, partition, ...), so a drill does
// exactly what an operator would, on processes or on containers.
#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <tuple>

#include "cli.h"
#include "client.h"
#include "cluster.h"
#include "docker.h"
#include "drill.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/core/hash.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/logging.h"
#include "units.h"
#include "verify.h"

namespace mkt::marketctl {

namespace {

namespace po = boost::program_options;
namespace lpb = market::ledger::v1;
using namespace std::chrono_literals;

std::atomic<bool> interrupted{false};
extern "C" void on_interrupt(int) {
  interrupted = true;
}

// Waits `us`, or less when interrupted; false when interrupted.
bool wait_for(std::int64_t us) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < until) {
    if (interrupted) return false;
    std::this_thread::sleep_for(
        std::min<std::chrono::nanoseconds>(100ms, until - std::chrono::steady_clock::now()));
  }
  return !interrupted;
}

// The ledger's commits as a client sees them: a stream of committed entries from one validator,
// moved to another when it fails, each new index stamped with the time it arrived.
class CommitWatcher {
 public:
  explicit CommitWatcher(const po::variables_map& flags) : flags_(flags) {
    thread_ = std::thread([this] { run(); });
  }
  ~CommitWatcher() { stop(); }
  CommitWatcher(const CommitWatcher&) = delete;
  CommitWatcher& operator=(const CommitWatcher&) = delete;

  void stop() {
    stopping_ = true;
    {
      std::lock_guard lock(mutex_);
      if (context_) context_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }
  // What was seen, ascending by commit time.
  std::vector<SeenCommit> commits() {
    std::lock_guard lock(mutex_);
    auto out = commits_;
    std::ranges::stable_sort(out, {}, &SeenCommit::at_ns);
    return out;
  }

 private:
  void run() {
    std::size_t turn = 0;
    while (!stopping_) {
      auto market = open_market(flags_);
      const auto validators =
          market ? market->nodes_of("validator", true) : std::vector<const runtime::NodeRecord*>{};
      if (validators.empty()) {
        std::this_thread::sleep_for(200ms);
        continue;
      }
      const auto& source = *validators[turn++ % validators.size()];
      auto stub = lpb::Ledger::NewStub(market->channel(source));
      if (next_ == 0) {  // start from what is committed now
        grpc::ClientContext context;
        context.set_deadline(deadline_in(2s));
        lpb::ClusterStatus status;
        if (!stub->GetClusterStatus(&context, {}, &status).ok()) continue;
        next_ = status.applied_index() + 1;
      }
      grpc::ClientContext context;
      {
        std::lock_guard lock(mutex_);
        if (stopping_) break;
        context_ = &context;
      }
      lpb::StreamCommittedRequest request;
      request.set_from_index(next_);
      auto reader = stub->StreamCommitted(&context, request);
      lpb::CommittedEntry entry;
      while (reader->Read(&entry)) {
        if (entry.index() < next_) continue;
        std::lock_guard lock(mutex_);
        // The leader's commit time; an entry it could not date is dated by when it was seen.
        const std::int64_t at =
            entry.committed_at_ns() != 0 ? entry.committed_at_ns() : runtime::wall_clock_ns();
        commits_.push_back({at, entry.has_batch() && entry.batch().trades_size() > 0});
        next_ = entry.index() + 1;
      }
      reader->Finish();
      {
        std::lock_guard lock(mutex_);
        context_ = nullptr;
      }
      if (!stopping_) std::this_thread::sleep_for(100ms);
    }
  }

  const po::variables_map& flags_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  grpc::ClientContext* context_ = nullptr;
  std::vector<SeenCommit> commits_;
  std::uint64_t next_ = 0;
};

struct Injected {
  FaultWindow window;
  std::string role;  // the plan's target word (leader, follower, ...) or the node id
  std::string result = "ok";
};

class Drill {
 public:
  Drill(const po::variables_map& flags, const DrillPlan& plan)
      : flags_(flags), seed_state_(plan.seed) {
    std::error_code ec;
    self_ = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (flags.count("compose")) {
      selector_ = {"--compose", flags["compose"].as<std::string>()};
    } else {
      selector_ = {"--run", flags["run"].as<std::string>()};
    }
  }

  // Runs one fault: inject, hold, undo. Returns false when the drill must stop.
  bool run(const FaultStep& step, std::vector<Injected>& record) {
    auto market = open_market(flags_);
    if (!market) return stop_with(market.error());
    auto target = resolve(*market, step);
    if (!target) return stop_with(target.error());
    Injected injected;
    injected.window.fault = std::string(to_string(step.kind));
    if (step.kind == FaultKind::partition)
      injected.window.fault += " " + std::string(to_string(step.shape));
    injected.window.target = target->empty() ? "validators" : *target;
    // A ring or halves partition spans the validators: it aims at no one node.
    const bool spans = step.kind == FaultKind::partition && step.shape != PartitionKind::isolate;
    injected.role = spans ? "" : step.target;
    injected.window.start_ns = runtime::wall_clock_ns();
    // Each fault is a marketctl command, undone by another: kill by restart, pause by unpause,
    // disconnect by connect, a partition by healing the id it printed.
    std::expected<std::string, std::string> done;
    if (step.kind != FaultKind::partition) {
      const auto verb = std::string(to_string(step.kind));
      done = command({verb, *target});
      if (!done) return stop_with(done.error());
      const char* undo = step.kind == FaultKind::kill    ? "restart"
                         : step.kind == FaultKind::pause ? "unpause"
                                                         : "connect";
      pending_.push_back({undo, {*target}});
    } else {
      std::vector<std::string> args{"partition"};
      if (step.shape == PartitionKind::isolate) {
        args.push_back(*target);
      } else {
        args.insert(args.end(), {"--shape", std::string(to_string(step.shape)), "--seed",
                                 std::to_string(draw() % 1000 + 1)});
        for (const auto* v : market->scenario.nodes_with_role(scenario::Role::validator)) {
          args.push_back(v->id);
        }
      }
      done = command(args);
      if (!done) return stop_with(done.error());
      // "partition p3: ..." names the partition to heal.
      std::istringstream words(*done);
      std::string word, id;
      words >> word >> id;
      if (!id.empty() && id.back() == ':') id.pop_back();
      pending_.push_back({"heal", {id}});
    }
    const bool held = wait_for(step.duration_us);
    auto undone = undo_last();
    injected.window.end_ns = runtime::wall_clock_ns();
    if (!undone) injected.result = undone.error();
    std::cout << "  " << injected.window.fault << " " << injected.window.target;
    if (!injected.role.empty() && injected.role != injected.window.target) {
      std::cout << " (" << injected.role << ")";
    }
    std::cout << ": " << format_seconds(injected.window.end_ns - injected.window.start_ns)
              << (undone ? "" : ", undo failed: " + undone.error()) << "\n"
              << std::flush;
    record.push_back(std::move(injected));
    if (!undone) return stop_with("could not undo the fault: " + undone.error());
    return held;
  }

  // Undoes whatever is still in force, then heals every partition: nothing is left cut, paused,
  // disconnected or killed.
  void heal_everything() {
    while (!pending_.empty()) {
      if (auto undone = undo_last(); !undone) {
        std::cerr << "marketctl drill: " << undone.error() << "\n";
      }
    }
    if (auto healed = command({"heal"}); !healed) {
      std::cerr << "marketctl drill: heal: " << healed.error() << "\n";
    }
  }

  const std::string& stopped_because() const { return why_; }
  // This binary, as it was when the drill began (a rebuild meanwhile leaves /proc/self/exe
  // naming a deleted file).
  const std::string& self() const { return self_; }
  std::uint64_t draw() { return core::splitmix64(seed_state_); }

 private:
  std::expected<std::string, std::string> command(std::vector<std::string> args) {
    args.insert(args.begin(), self_);
    args.insert(args.end(), selector_.begin(), selector_.end());
    return run_captured(args);
  }

  std::expected<void, std::string> undo_last() {
    auto [verb, args] = pending_.back();
    pending_.pop_back();
    args.insert(args.begin(), verb);
    // A restart may meet a container or process that is still going down: try a few times.
    std::expected<std::string, std::string> done;
    for (int attempt = 0; attempt < 3; ++attempt) {
      done = command(args);
      if (done) return {};
      std::this_thread::sleep_for(500ms);
    }
    return std::unexpected(verb + ": " + done.error());
  }

  bool stop_with(const std::string& why) {
    why_ = why;
    return false;
  }

  // The node a step aims at: a role word resolved now (the leader as of now), or the id itself.
  std::expected<std::string, std::string> resolve(const Market& market, const FaultStep& step) {
    if (step.kind == FaultKind::partition && step.shape != PartitionKind::isolate) return "";
    std::vector<std::string> ids;
    if (step.target == "leader" || step.target == "follower") {
      auto leader = leader_of(market);
      if (!leader) return std::unexpected(leader.error());
      if (step.target == "leader") return *leader;
      for (const auto* v : market.nodes_of("validator", true)) {
        if (v->id != *leader) ids.push_back(v->id);
      }
    } else if (step.target == "validator" || step.target == "exchange" || step.target == "agent") {
      for (const auto* n : market.nodes_of(step.target, true)) ids.push_back(n->id);
    } else {
      if (market.state.find(step.target) == nullptr) {
        return std::unexpected("no node '" + step.target + "' in this market");
      }
      return step.target;
    }
    if (ids.empty()) return std::unexpected("no running " + step.target + " to aim at");
    return ids[pick(draw(), ids.size())];
  }

  // The leader, waiting up to 20 s for the validators to have one.
  std::expected<std::string, std::string> leader_of(const Market& market) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline && !interrupted) {
      const auto answers = ask_validators(market, 1s);
      if (const auto* leader = leader_answer(answers)) return leader->node->id;
      std::this_thread::sleep_for(200ms);
    }
    return std::unexpected("the validators have no leader (waited 20 s)");
  }

  const po::variables_map& flags_;
  std::uint64_t seed_state_;
  std::string self_;
  std::vector<std::string> selector_;
  std::vector<std::pair<std::string, std::vector<std::string>>> pending_;
  std::string why_;
};

// A double-quoted YAML scalar: YAML reads JSON's escapes.
std::string yaml_quoted(const std::string& text) {
  return "\"" + runtime::json_escape(text) + "\"";
}

std::expected<DrillPlan, std::string> plan_of(const po::variables_map& flags) {
  DrillPlan plan;
  if (flags.count("replay")) {
    // A record's `plan:`, as it ran: the same faults, targets drawn by the same seed.
    const auto path = flags["replay"].as<std::string>();
    std::string text;
    try {
      const auto record = YAML::LoadFile(path);
      if (!record["plan"] || !record["plan"].IsMap()) {
        return std::unexpected(path + ": not a drill record (it has no plan)");
      }
      YAML::Emitter out;
      out << record["plan"];
      text = out.c_str();
    } catch (const YAML::Exception& e) {
      return std::unexpected(path + ": " + e.what());
    }
    auto parsed = parse_plan(text, path + " (its plan)");
    if (!parsed) return std::unexpected(parsed.error());
    return parsed;
  }
  if (flags.count("plan")) {
    const auto path = flags["plan"].as<std::string>();
    auto text = runtime::read_file(path, 1 << 20);
    if (!text) return std::unexpected(text.error());
    auto parsed = parse_plan(*text, path);
    if (!parsed) return std::unexpected(parsed.error());
    plan = std::move(*parsed);
  }
  const auto duration = [&](const char* name,
                            std::int64_t& out) -> std::expected<void, std::string> {
    if (!flags.count(name)) return {};
    auto us = parse_duration_us(flags[name].as<std::string>());
    if (!us || *us <= 0)
      return std::unexpected(std::string("--") + name + ": " +
                             (us ? "must be above 0" : us.error()));
    out = *us;
    return {};
  };
  std::int64_t fault_us = 4'000'000;
  if (auto ok = duration("duration", fault_us); !ok) return std::unexpected(ok.error());
  if (auto ok = duration("rest", plan.rest_us); !ok) return std::unexpected(ok.error());
  if (auto ok = duration("soak", plan.soak_us); !ok) return std::unexpected(ok.error());
  if (flags.count("seed")) plan.seed = flags["seed"].as<std::uint64_t>();
  if (flags.count("every")) {
    auto every = parse_interval(flags["every"].as<std::string>());
    if (!every) return std::unexpected("--every: " + every.error());
    std::tie(plan.every_min_us, plan.every_max_us) = *every;
  }
  const auto add = [&](FaultKind kind, const char* target, int repeat,
                       PartitionKind shape = PartitionKind::majorities_ring) {
    if (repeat > 0) {
      plan.steps.push_back({.kind = kind,
                            .target = target,
                            .shape = shape,
                            .duration_us = fault_us,
                            .repeat = repeat});
    }
  };
  add(FaultKind::kill, "leader", flags["kill-leader"].as<int>());
  add(FaultKind::pause, "follower", flags.count("pause-follower") ? 1 : 0);
  add(FaultKind::disconnect, "leader", flags.count("disconnect-leader") ? 1 : 0);
  add(FaultKind::partition, "validator", flags.count("ring") ? 1 : 0);
  add(FaultKind::kill, "exchange", flags.count("kill-exchange") ? 1 : 0);
  if (plan.steps.empty() && plan.soak_us == 0) {
    return std::unexpected(
        "nothing to do: give a plan file, fault flags (--kill-leader N, --pause-follower, ...) or "
        "--soak");
  }
  return plan;
}

}  // namespace

int drill_command(int argc, char** argv) {
  po::options_description options("drill options");
  // clang-format off
  options.add_options()
      ("plan", po::value<std::string>(), "a drill plan (YAML; see marketctl drill --help)")
      ("kill-leader", po::value<int>()->default_value(0), "kill the Raft leader this many times")
      ("pause-follower", "pause a follower")
      ("disconnect-leader", "disconnect the leader's container (containers only)")
      ("ring", "a majorities-ring partition of the validators, through the proxy")
      ("kill-exchange", "kill an exchange (in the middle of whatever batch it is sending)")
      ("duration", po::value<std::string>(), "how long each flagged fault lasts (default 4s)")
      ("rest", po::value<std::string>(), "the pause after each fault heals (default 3s)")
      ("soak", po::value<std::string>(), "draw faults by the seed for this long (as in 30m)")
      ("every", po::value<std::string>(), "a soak's fault interval, as in 10s-20s (the default)")
      ("seed", po::value<std::uint64_t>(), "the seed that picks targets and soak faults")
      ("record", po::value<std::string>(), "where to write the record (default: drill-<time>.yaml)")
      ("replay", po::value<std::string>(), "run the plan of an earlier drill's record again")
      ("verify", "run `marketctl verify --drill <record>` afterwards; its verdict is the exit code");
  // clang-format on
  po::positional_options_description positional;
  positional.add("plan", 1);
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl drill [plan.yaml] [--kill-leader N] [--pause-follower] [--ring] ...\n"
      "                       [--run DIR | --compose P] [--record FILE] [--verify]\n\n"
      "Injects faults into a running market while its agents trade: a plan's, the flags', or\n"
      "a soak's drawn by the seed. Records each fault with its start and end, and always heals\n"
      "at the end. A plan:\n\n"
      "  seed: 7\n"
      "  rest: 3s\n"
      "  faults:\n"
      "    - {fault: kill, target: leader, duration: 4s, repeat: 3}\n"
      "    - {fault: pause, target: follower, duration: 5s}\n"
      "    - {fault: disconnect, target: leader, duration: 5s}   # containers only\n"
      "    - {fault: partition, shape: majorities-ring, duration: 5s}\n"
      "    - {fault: kill, target: exchange, duration: 3s}\n\n"
      "Faults: kill, pause, disconnect, partition (shape majorities-ring, halves or isolate).\n"
      "Targets: leader, follower, validator, exchange, agent or a node id.\n",
      options, positional);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  auto plan = plan_of(flags);
  if (!plan) return fail("drill", plan.error(), 2);
  const bool containers = flags.count("compose") != 0;
  if (auto ok = check_plan(*plan, containers); !ok) return fail("drill", ok.error(), 2);
  auto market = open_market(flags);
  if (!market) return fail("drill", market.error());
  const auto started_ns = runtime::wall_clock_ns();
  const std::string record_path =
      flags.count("record") ? flags["record"].as<std::string>()
                            : (containers ? std::filesystem::path(".") : market->run.dir).string() +
                                  "/drill-" + std::to_string(started_ns / 1'000'000'000) + ".yaml";

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  std::cout << "drill on "
            << (containers ? "compose " + flags["compose"].as<std::string>()
                           : "run " + flags["run"].as<std::string>())
            << ", seed " << plan->seed << "\n"
            << std::flush;
  std::vector<Injected> record;
  CommitWatcher watcher(flags);
  Drill drill(flags, *plan);
  bool going = true;
  for (const auto& step : plan->steps) {
    for (int i = 0; i < step.repeat && going; ++i) {
      going = drill.run(step, record) && wait_for(plan->rest_us);
    }
    if (!going) break;
  }
  if (going && plan->soak_us > 0) {
    const auto soak_start = std::chrono::steady_clock::now();
    for (const auto& s : soak_schedule(*plan, containers)) {
      const auto at = soak_start + std::chrono::microseconds(s.start_after_us);
      const auto now = std::chrono::steady_clock::now();
      if (at > now &&
          !wait_for(std::chrono::duration_cast<std::chrono::microseconds>(at - now).count())) {
        going = false;
        break;
      }
      if (!drill.run(s.step, record)) {
        going = false;
        break;
      }
    }
    if (going) going = wait_for(plan->rest_us);
  }
  drill.heal_everything();
  watcher.stop();
  const auto ended_ns = runtime::wall_clock_ns();

  std::vector<FaultWindow> windows;
  for (const auto& r : record) windows.push_back(r.window);
  const auto commits = watcher.commits();
  std::vector<std::int64_t> times;
  for (const auto& c : commits) times.push_back(c.at_ns);
  const auto [gaps, longest] = commit_gaps(times, windows);
  const auto recovered = recoveries(commits, windows);
  std::string text =
      "# marketctl drill record: every fault injected, when it began and ended (Unix ns), and the\n"
      "# longest time the drill saw no commit in the ledger while it lasted.\n"
      "market: " +
      yaml_quoted(containers ? "compose " + flags["compose"].as<std::string>()
                             : "run " + flags["run"].as<std::string>()) +
      "\nseed: " + std::to_string(plan->seed) + "\nplan: " + format_plan(*plan) +
      "\nstarted_ns: " + std::to_string(started_ns) + "\nended_ns: " + std::to_string(ended_ns) +
      "\ncommits_seen: " + std::to_string(times.size()) +
      "\nlongest_gap_ns: " + std::to_string(longest) +
      "\ninterrupted: " + (interrupted ? "true" : "false") +
      "\nstopped_because: " + yaml_quoted(drill.stopped_because()) + "\nfaults:\n";
  for (std::size_t i = 0; i < record.size(); ++i) {
    const auto& r = record[i];
    text += "  - {fault: " + yaml_quoted(r.window.fault) +
            ", target: " + yaml_quoted(r.window.target) + ", aimed_at: " + yaml_quoted(r.role) +
            ", start_ns: " + std::to_string(r.window.start_ns) +
            ", end_ns: " + std::to_string(r.window.end_ns) +
            ", longest_gap_ns: " + std::to_string(gaps[i]) +
            ", first_commit_after_ns: " + std::to_string(recovered[i].first_commit_ns) +
            ", first_settled_after_ns: " + std::to_string(recovered[i].first_settled_ns) +
            ", result: " + yaml_quoted(r.result) + "}\n";
  }
  if (auto ok = runtime::write_file_atomically(record_path, text); !ok) {
    return fail("drill", ok.error());
  }
  std::cout << "drill: " << record.size() << " faults in " << format_seconds(ended_ns - started_ns)
            << ", " << times.size() << " commits seen, longest time without one "
            << format_seconds(longest) << "; everything healed\n"
            << "record: " << record_path << "\n";
  // Failover: from each kill of the leader to the new leader's first commit (its election plus
  // one round) and to the first commit carrying trades (the exchanges found it).
  std::vector<std::int64_t> elected, settled, found;
  for (std::size_t i = 0; i < record.size(); ++i) {
    if (record[i].window.fault != "kill" || record[i].role != "leader") continue;
    const Recovery& r = recovered[i];
    if (r.first_commit_ns >= 0) elected.push_back(r.first_commit_ns);
    if (r.first_settled_ns >= 0) settled.push_back(r.first_settled_ns);
    if (r.first_commit_ns >= 0 && r.first_settled_ns >= 0) {
      found.push_back(r.first_settled_ns - r.first_commit_ns);
    }
  }
  if (!elected.empty()) {
    std::cout << "leader kills: " << elected.size() << " recovered\n"
              << "  kill to the new leader's first commit:  " << spread(elected) << "\n"
              << "  kill to the first settled trade:        " << spread(settled) << "\n"
              << "  new leader's first commit to a trade:   " << spread(found) << "\n";
  }
  if (!drill.stopped_because().empty()) {
    return fail("drill", "stopped early: " + drill.stopped_because());
  }
  if (interrupted) return fail("drill", "interrupted; everything healed");
  if (!flags.count("verify")) return 0;
  std::vector<std::string> verify{drill.self(), "verify", "--drill", record_path};
  if (containers) {
    verify.insert(verify.end(), {"--compose", flags["compose"].as<std::string>()});
  } else {
    verify.insert(verify.end(), {"--run", flags["run"].as<std::string>()});
  }
  std::cout << std::flush;
  std::vector<char*> args;
  for (auto& a : verify) args.push_back(a.data());
  args.push_back(nullptr);
  ::execv(args[0], args.data());  // the verdict is verify's exit code
  return fail("drill", "cannot run " + drill.self() + " verify: " + std::strerror(errno));
}

}  // namespace mkt::marketctl
