#pragma once
// The frame of every service's main: the flags each node takes, the checks each makes before it
// builds anything, and one exit code per kind of failure, written once here.
//
// A service's main.cpp declares its own flags and a ServiceSpec and calls service_main, which
// parses the command line (mkt/runtime/options.h), sets up logging, checks that --node has the
// service's role, reads the frame's flags into a ServiceContext and calls the service's
// run_node (its node.cpp), whose result is the exit code.
//
// Exit codes: 0 after a clean stop, --help or --version; 2 for a bad command line (a missing or
// malformed flag, a node of the wrong role); 1 for anything else that stops a start (a scenario
// that does not load, a file that cannot be read, a port that cannot be bound).

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <expected>
#include <functional>
#include <optional>
#include <string>

#include "mkt/runtime/address_book.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/options.h"
#include "mkt/runtime/tls.h"
#include "mkt/scenario/scenario.h"

namespace mkt::runtime {

struct ServiceSpec {
  std::string binary;       // "exchanged"
  std::string summary;      // one line for --help
  scenario::Role role;      // the role --node must have
  std::string role_phrase;  // "an exchange": in "node 'x' is not an exchange"
  std::string listen_help;  // what --listen serves
  // The frame's optional flags: --metrics-listen, --addresses, --proxy, and a sync flag
  // (--journal-sync, --wal-sync) when sync_flag is set.
  bool metrics = true;
  std::string metrics_help = {};  // what --metrics-listen serves, when more than the metrics
  bool addresses = true;
  bool proxy = true;
  std::string sync_flag = {};
  std::string sync_help = {};
};

// What a node is started with. Built by service_main, valid while run_node runs.
struct ServiceContext {
  const CommonOptions& options;
  const scenario::Scenario& scenario;
  const scenario::Node& self;
  std::string listen;                // --listen
  std::string metrics_listen;        // --metrics-listen
  std::optional<std::string> proxy;  // --proxy host:port: this node's channels go through it
  SyncMode sync = SyncMode::fsync;
  // Every node of the scenario, with --addresses as its file (not read yet: the file may not
  // exist until marketctl has started the nodes).
  AddressBook addresses;
  // --tls-dir: this node's identity, and every server and channel it makes is mutual TLS; null
  // without the flag (plaintext).
  std::shared_ptr<const TlsIdentity> tls;

  const boost::program_options::variables_map& flags() const { return options.extra; }
  const std::string& node_id() const { return options.node_id; }
  // The value of a string flag, or "" when it is absent.
  std::string flag(const std::string& name) const;
  // Adds each `<node>=<host>:<port>` of a repeatable flag to the address book; the error names
  // the flag and what is wrong.
  std::expected<void, std::string> add_addresses(const std::string& flag_name);
};

using RunNode = std::function<int(ServiceContext&)>;

// The whole main of a service. `own` holds the service's own flags.
int service_main(int argc, const char* const* argv, const ServiceSpec& spec,
                 boost::program_options::options_description own, const RunNode& run_node);

}  // namespace mkt::runtime
