#include "run_setup.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "mkt/accounts/accounts.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/tls.h"

namespace mkt::marketctl {

namespace fs = std::filesystem;

std::expected<Binaries, std::string> find_binaries(const std::string& bin_dir) {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec).parent_path();
  const auto find = [&](const std::string& name) -> std::expected<std::string, std::string> {
    std::vector<fs::path> candidates;
    if (!bin_dir.empty()) {
      candidates = {fs::path(bin_dir) / name};
    } else {
      candidates = {self.parent_path() / name / name, self / name};
    }
    for (const auto& path : candidates) {
      if (::access(path.c_str(), X_OK) == 0) return fs::absolute(path).string();
    }
    std::string looked;
    for (const auto& path : candidates) looked += " " + path.string();
    return std::unexpected("cannot find the " + name + " binary (looked at" + looked +
                           "): build it (`cmake --build --preset release`) or name its folder "
                           "with --bin-dir");
  };
  Binaries binaries;
  for (auto [name, out] :
       {std::pair{"netproxy", &binaries.netproxy}, std::pair{"exchanged", &binaries.exchanged},
        std::pair{"validatord", &binaries.validatord}, std::pair{"agentd", &binaries.agentd},
        std::pair{"monitord", &binaries.monitord}}) {
    auto found = find(name);
    if (!found) return std::unexpected(found.error());
    *out = *found;
  }
  return binaries;
}

std::expected<std::int64_t, std::string> market_epoch(const runtime::RunPaths& run) {
  if (fs::exists(run.epoch())) return runtime::read_epoch(run.epoch());
  const std::int64_t now = runtime::wall_clock_ns();
  auto written = runtime::write_file_atomically(run.epoch().string(), std::to_string(now) + "\n");
  if (!written) return std::unexpected(written.error());
  return now;
}

namespace {

// `path` with a fresh key for each of `ids`: an existing file keeps its keys and gains lines for
// the ids it lacks. Mode 0600: the keys are credentials.
std::expected<void, std::string> write_keys(const fs::path& path, const std::string& header,
                                            const std::vector<std::string>& ids) {
  std::string text = header;
  if (fs::exists(path)) {
    auto existing = runtime::read_file(path.string(), accounts::file_bytes_max);
    if (!existing) return std::unexpected(existing.error());
    text = *existing;
  }
  auto existing = accounts::parse(text, path.string());
  if (!existing) return std::unexpected(existing.error());
  for (const auto& id : ids) {
    if (std::ranges::any_of(*existing, [&](const auto& k) { return k.account == id; })) continue;
    text += id + " " + runtime::random_api_key() + "\n";
  }
  return runtime::write_file_atomically(path.string(), text, 0600);
}

}  // namespace

std::expected<void, std::string> write_credentials(const runtime::RunPaths& run,
                                                   const scenario::Scenario& scenario, bool tls) {
  std::vector<std::string> exchanges, validators;
  for (const auto* node : scenario.nodes_with_role(scenario::Role::exchange)) {
    exchanges.push_back(node->id);
  }
  for (const auto* node : scenario.nodes_with_role(scenario::Role::validator)) {
    validators.push_back(node->id);
  }
  struct KeysFile {
    fs::path path;
    const char* header;
    std::vector<std::string> ids;
  };
  const KeysFile files[] = {
      {run.accounts(),
       "# <account> <api key>: every agent of the scenario, and the operator (manual orders).\n"
       "# Clients send the key as gRPC metadata x-api-key.\n",
       runtime::market_accounts(scenario)},
      {run.ledger_keys(),
       "# <exchange> <key>: each exchange's credential to the ledger, sent as gRPC\n"
       "# metadata x-ledger-key with its trade batches; the validators check it.\n",
       exchanges},
      {run.validator_keys(),
       "# <validator> <key>: each validator's credential to its peers, sent as gRPC\n"
       "# metadata x-validator-key with its Raft messages; the others check it.\n",
       validators}};
  for (const KeysFile& file : files) {
    if (auto ok = write_keys(file.path, file.header, file.ids); !ok) return ok;
  }
  if (!tls) return {};
  std::vector<runtime::CertificateSubject> subjects{
      {.node_id = runtime::operator_account, .role = "operator"}};
  for (const auto& node : scenario.nodes) {
    subjects.push_back({.node_id = node.id, .role = std::string(to_string(node.role))});
  }
  return runtime::write_certificates(run.tls(), subjects);
}

bool tls_run(const runtime::RunPaths& run) {
  return fs::exists(run.tls() / "ca.pem");
}

}  // namespace mkt::marketctl
