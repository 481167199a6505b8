#pragma once
// The Docker CLI, as the compose commands use it: `docker ps`, `inspect`, `kill`, `start`,
// `pause`, `network disconnect`, `exec`. marketctl drives the engine through the client a user
// has (`docker`, or $NETMARKET_DOCKER), so it works with any engine that client reaches.

#include <expected>
#include <string>
#include <vector>

#include "mkt/runtime/run_folder.h"

namespace mkt::marketctl {

// Runs a program (argv[0], looked up on PATH) and returns its standard output; the error holds its
// standard error (or why it could not run).
std::expected<std::string, std::string> run_captured(const std::vector<std::string>& argv);

// `docker <args>`, with the client named by $NETMARKET_DOCKER or `docker` on PATH.
std::expected<std::string, std::string> docker(const std::vector<std::string>& args);

// One container of a compose market, as `docker inspect` describes it.
struct Container {
  std::string id;
  std::string service;   // the node id (or the setup service)
  std::string status;    // created, running, paused, restarting, exited, dead
  int exit_code = 0;     // the last exit's (137 after docker kill)
  std::string network;   // the compose network it is attached to (first), empty when none
  runtime::Ports ports;  // container port number ("7000") -> published host port
  std::string scenario;  // host path of the scenario bind mount, when it has one
};

// The containers of a compose project: `spec` is a project name or a compose file (matched by the
// config_files label compose sets). The error says when there is none.
std::expected<std::vector<Container>, std::string> compose_containers(const std::string& spec);

}  // namespace mkt::marketctl
