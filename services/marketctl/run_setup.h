#pragma once
// The files of a run folder that every node reads, written before the first node starts: by
// `marketctl up` for local processes, by `marketctl prepare` in a compose market's volume.

#include <cstdint>
#include <expected>
#include <string>

#include "mkt/runtime/run_folder.h"
#include "mkt/scenario/scenario.h"
#include "plan.h"

namespace mkt::marketctl {

// The service binaries: beside marketctl in a build tree (services/<name>/<name>), in one folder
// when installed, or in `bin_dir`.
std::expected<Binaries, std::string> find_binaries(const std::string& bin_dir);

// The market's time 0 (<run>/epoch), from which every agent computes the fundamental values:
// written at the first start, read back after, so the market's clock goes on.
std::expected<std::int64_t, std::string> market_epoch(const runtime::RunPaths& run);

// The run's credentials, each with a fresh key: <run>/accounts for every agent and the operator,
// <run>/ledger-keys for every exchange, <run>/validator-keys for every validator. An existing
// file keeps its keys and gains lines for those it lacks. With `tls`, also <run>/tls: the run's
// CA and a certificate for every node and for the operator (kept when there).
std::expected<void, std::string> write_credentials(const runtime::RunPaths& run,
                                                   const scenario::Scenario& scenario, bool tls);

// Whether the run folder is a TLS run's (it has <run>/tls).
bool tls_run(const runtime::RunPaths& run);

}  // namespace mkt::marketctl
