#include "mkt/runtime/service_main.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "mkt/core/enum_table.h"
#include "mkt/runtime/logging.h"

namespace mkt::runtime {

namespace po = boost::program_options;

namespace {

constexpr auto sync_names = core::enum_table<SyncMode, std::string_view>(
    {{SyncMode::fsync, "fsync"}, {SyncMode::none, "none"}});

void add_frame_flags(po::options_description& own, const ServiceSpec& spec) {
  po::options_description frame("Node options");
  // clang-format off
  frame.add_options()
      ("listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       (spec.listen_help + "; host:port, port 0 picks a free one").c_str());
  if (spec.metrics) {
    frame.add_options()
        ("metrics-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
         ((spec.metrics_help.empty() ? "host:port of the Prometheus metrics (GET /metrics)"
                                     : spec.metrics_help) +
          "; port 0 picks a free one").c_str());
  }
  if (spec.addresses) {
    frame.add_options()
        ("addresses", po::value<std::string>(),
         "file of '<node-id> <host>:<port>' lines (marketctl writes it): where the other nodes "
         "are, read again when it changes");
  }
  if (spec.proxy) {
    frame.add_options()
        ("proxy", po::value<std::string>(),
         "host:port of the network proxy; this node's connections go through it");
  }
  frame.add_options()
      ("tls-dir", po::value<std::string>(),
       "folder of the run's TLS files (marketctl up --tls writes <run>/tls): every call this node "
       "serves or makes is then mutual TLS, with the run's CA and this node's certificate");
  if (!spec.sync_flag.empty()) {
    frame.add_options()
        (spec.sync_flag.c_str(), po::value<std::string>()->default_value("fsync"),
         spec.sync_help.c_str());
  }
  // clang-format on
  own.add(frame);
}

// The value of a string flag, or "" when it is absent.
std::string string_flag(const po::variables_map& flags, const std::string& name) {
  return flags.count(name) ? flags[name].as<std::string>() : std::string();
}

int run_checked(const CommonOptions& options, const ServiceSpec& spec, const RunNode& run_node) {
  const scenario::Scenario& scenario = *options.scenario;
  const scenario::Node& self = *scenario.find_node(options.node_id);
  if (self.role != spec.role) {
    std::cerr << spec.binary << ": node '" << options.node_id << "' is not " << spec.role_phrase
              << " (its role is " << scenario::to_string(self.role) << ")\n";
    return 2;
  }
  const auto& flags = options.extra;
  SyncMode sync = SyncMode::fsync;
  if (!spec.sync_flag.empty()) {
    const auto text = flags[spec.sync_flag].as<std::string>();
    const auto mode = sync_names.first_of(text);
    if (!mode) {
      std::cerr << spec.binary << ": --" << spec.sync_flag << " must be fsync or none, not '"
                << text << "'\n";
      return 2;
    }
    sync = *mode;
  }
  std::vector<std::string> ids;
  for (const auto& node : scenario.nodes) ids.push_back(node.id);
  ServiceContext context{.options = options,
                         .scenario = scenario,
                         .self = self,
                         .listen = flags["listen"].as<std::string>(),
                         .metrics_listen = string_flag(flags, "metrics-listen"),
                         .proxy = std::nullopt,
                         .sync = sync,
                         .addresses = AddressBook(ids, string_flag(flags, "addresses")),
                         .tls = nullptr};
  if (flags.count("proxy")) context.proxy = string_flag(flags, "proxy");
  if (flags.count("tls-dir")) {
    auto identity = load_identity(string_flag(flags, "tls-dir"), options.node_id);
    if (!identity) {
      std::cerr << spec.binary << ": --tls-dir: " << identity.error() << "\n";
      return 1;
    }
    context.tls = std::make_shared<const TlsIdentity>(std::move(*identity));
  }
  return run_node(context);
}

}  // namespace

std::string ServiceContext::flag(const std::string& name) const {
  return string_flag(options.extra, name);
}

std::expected<void, std::string> ServiceContext::add_addresses(const std::string& flag_name) {
  const auto& vm = options.extra;
  if (!vm.count(flag_name)) return {};
  for (const auto& assignment : vm[flag_name].as<std::vector<std::string>>()) {
    if (auto added = addresses.add(assignment); !added) {
      return std::unexpected("--" + flag_name + " " + added.error());
    }
  }
  return {};
}

int service_main(int argc, const char* const* argv, const ServiceSpec& spec,
                 po::options_description own, const RunNode& run_node) {
  add_frame_flags(own, spec);
  const auto parsed = parse_command_line(argc, argv, spec.binary, spec.summary, own);
  if (!parsed.options) return parsed.exit_code;
  const auto& options = *parsed.options;
  setup_logging(options.log_format, options.log_level, options.node_id);
  const int code = run_checked(options, spec, run_node);
  spdlog::info("exiting with {}", code);
  return code;
}

}  // namespace mkt::runtime
