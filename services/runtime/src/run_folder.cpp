#include "mkt/runtime/run_folder.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <fstream>
#include <sstream>

#include "mkt/runtime/files.h"

namespace mkt::runtime {

std::vector<std::string> market_accounts(const scenario::Scenario& scenario) {
  std::vector<std::string> accounts;
  for (const auto* agent : scenario.nodes_with_role(scenario::Role::agent)) {
    accounts.push_back(agent->id);
  }
  accounts.push_back(operator_account);
  return accounts;
}
namespace {

constexpr std::array<std::string_view, 7> state_names{"pending", "starting", "running", "exited",
                                                      "killed",  "stopped",  "paused"};

template <typename Int>
bool parse_int(std::string_view text, Int& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const auto start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

}  // namespace

std::string_view to_string(NodeState state) {
  return state_names[static_cast<std::size_t>(state)];
}

int port_of(const Ports& ports, std::string_view name) {
  for (const auto& [n, p] : ports) {
    if (n == name) return p;
  }
  return 0;
}

int NodeRecord::port(std::string_view name) const {
  return port_of(ports, name);
}

std::expected<std::int64_t, std::string> read_epoch(const std::filesystem::path& path) {
  const auto text = read_file(path.string(), 64);
  if (!text) return std::unexpected(text.error());
  std::int64_t ns = 0;
  const char* end = text->data() + text->size();
  const auto [at, ec] = std::from_chars(text->data(), end, ns);
  if (ec != std::errc{} || ns <= 0 || (at != end && *at != '\n')) {
    return std::unexpected(path.string() + " does not hold a time in ns: '" + *text + "'");
  }
  return ns;
}

const NodeRecord* RunState::find(std::string_view id) const {
  for (const auto& node : nodes) {
    if (node.id == id) return &node;
  }
  return nullptr;
}

std::string format_state(const RunState& state) {
  std::ostringstream out;
  out << "supervisor pid=" << state.supervisor << " phase=" << state.phase
      << " scenario=" << state.scenario << "\n";
  for (const auto& n : state.nodes) {
    out << "node id=" << n.id << " role=" << n.role << " state=" << to_string(n.state)
        << " pid=" << n.pid << " restarts=" << n.restarts << " exit=" << n.exit;
    for (const auto& [name, port] : n.ports) out << " " << name << "=" << port;
    out << "\n";
  }
  return out.str();
}

std::expected<RunState, std::string> parse_state(const std::string& text) {
  RunState state;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  bool have_supervisor = false;
  while (std::getline(in, line)) {
    ++number;
    const auto words = split_words(line);
    if (words.empty()) continue;
    const auto bad = [&](std::string_view why) {
      return std::unexpected("state line " + std::to_string(number) + ": " + std::string(why));
    };
    NodeRecord node;
    for (std::size_t i = 1; i < words.size(); ++i) {
      const auto eq = words[i].find('=');
      if (eq == std::string_view::npos) return bad("expected key=value");
      const auto key = words[i].substr(0, eq);
      const auto value = words[i].substr(eq + 1);
      bool ok = true;
      if (words[0] == "supervisor") {
        if (key == "pid")
          ok = parse_int(value, state.supervisor);
        else if (key == "phase")
          state.phase = value;
        else if (key == "scenario")
          state.scenario = value;
      } else if (key == "id") {
        node.id = value;
      } else if (key == "role") {
        node.role = value;
      } else if (key == "state") {
        ok = false;
        for (std::size_t s = 0; s < state_names.size(); ++s) {
          if (state_names[s] == value) node.state = static_cast<NodeState>(s), ok = true;
        }
      } else if (key == "pid") {
        ok = parse_int(value, node.pid);
      } else if (key == "restarts") {
        ok = parse_int(value, node.restarts);
      } else if (key == "exit") {
        ok = parse_int(value, node.exit);
      } else {
        int port = 0;
        ok = parse_int(value, port);
        node.ports.emplace_back(std::string(key), port);
      }
      if (!ok) return bad("bad value in '" + std::string(words[i]) + "'");
    }
    if (words[0] == "supervisor") {
      have_supervisor = true;
    } else if (words[0] == "node") {
      if (node.id.empty()) return bad("a node without id=");
      state.nodes.push_back(std::move(node));
    } else {
      return bad("unknown record '" + std::string(words[0]) + "'");
    }
  }
  if (!have_supervisor) return std::unexpected("state: no supervisor record");
  return state;
}

std::expected<RunState, std::string> read_state(const RunPaths& run) {
  auto text = runtime::read_file(run.state().string(), 1 << 20);
  if (!text) {
    return std::unexpected("no market was started in " + run.dir.string() +
                           " (no state file): start one with `marketctl up <scenario.yaml> --run " +
                           run.dir.string() + "`, or name its folder with --run");
  }
  auto state = parse_state(*text);
  if (!state) return std::unexpected(run.state().string() + ": " + state.error());
  return state;
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie answers kill(0) but is gone; its /proc status says Z.
  std::ifstream status("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, proc_state;
  if (!(status >> pid_field)) return false;
  // comm is in parentheses and may hold spaces: skip to the last ')'.
  std::string rest((std::istreambuf_iterator<char>(status)), std::istreambuf_iterator<char>());
  const auto close = rest.rfind(')');
  if (close == std::string::npos || close + 2 >= rest.size()) return true;
  return rest[close + 2] != 'Z';
}

std::expected<Ports, std::string> parse_ports(const std::string& text) {
  Ports ports;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto words = split_words(line);
    if (words.empty()) continue;
    int port = 0;
    if (words.size() != 2 || !parse_int(words[1], port) || port <= 0 || port > 65535) {
      return std::unexpected("bad ports line '" + line + "'");
    }
    ports.emplace_back(std::string(words[0]), port);
  }
  if (ports.empty()) return std::unexpected("empty ports file");
  return ports;
}

std::string loopback(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

std::map<std::string, std::string> grpc_addresses(const std::vector<NodeRecord>& nodes) {
  std::map<std::string, std::string> out;
  for (const auto& node : nodes) {
    if (const int port = node.port("grpc"); port != 0) out[node.id] = loopback(port);
  }
  return out;
}

std::string format_addresses(const std::vector<NodeRecord>& nodes) {
  std::string out;
  for (const auto& [id, address] : grpc_addresses(nodes)) out += id + " " + address + "\n";
  return out;
}

std::string random_api_key() {
  std::array<unsigned char, 16> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    const auto n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string key;
  for (auto b : bytes) {
    key += hex[b >> 4];
    key += hex[b & 15];
  }
  return key;
}

}  // namespace mkt::runtime
