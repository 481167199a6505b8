#include "docker.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "plan.h"

namespace mkt::marketctl {

namespace {

std::string docker_binary() {
  const char* env = std::getenv("NETMARKET_DOCKER");
  return env != nullptr && *env != 0 ? env : "docker";
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, separator)) parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.emplace_back();
  return parts;
}

}  // namespace

std::expected<std::string, std::string> docker(const std::vector<std::string>& args) {
  std::vector<std::string> argv{docker_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_captured(argv);
}

std::expected<std::string, std::string> run_captured(const std::vector<std::string>& command) {
  const auto& binary = command.front();
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return std::unexpected("pipe failed");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return std::unexpected("pipe failed");
  }
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return std::unexpected("fork failed");
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string stdout_text, stderr_text;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  char buffer[8192];
  while (open > 0) {
    if (::poll(fds, 2, -1) < 0) break;
    for (auto& fd : fds) {
      if (fd.fd < 0 || fd.revents == 0) continue;
      const auto n = ::read(fd.fd, buffer, sizeof buffer);
      if (n <= 0) {
        ::close(fd.fd);
        fd.fd = -1;
        --open;
        continue;
      }
      (&fd == &fds[0] ? stdout_text : stderr_text).append(buffer, static_cast<std::size_t>(n));
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && stdout_text.empty()) {
    return std::unexpected(
        "cannot run '" + binary + "'" +
        (binary == docker_binary() ? ": install Docker (deploy/docker-engine.sh)" : ""));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!stderr_text.empty() && stderr_text.back() == '\n') stderr_text.pop_back();
    if (stderr_text.empty()) stderr_text = "exit " + std::to_string(WEXITSTATUS(status));
    return std::unexpected(binary + " " + (command.size() > 1 ? command[1] : "") + ": " +
                           stderr_text);
  }
  return stdout_text;
}

std::expected<std::vector<Container>, std::string> compose_containers(const std::string& spec) {
  std::error_code ec;
  const bool is_file = std::filesystem::is_regular_file(spec, ec);
  const std::string file =
      is_file ? std::filesystem::weakly_canonical(std::filesystem::absolute(spec)).string() : "";
  auto ids = docker(
      {"ps", "--all", "--quiet", "--no-trunc", "--filter",
       is_file ? "label=com.docker.compose.project" : "label=com.docker.compose.project=" + spec});
  if (!ids) return std::unexpected(ids.error());
  std::vector<std::string> args{
      "inspect", "--format",
      "{{.Id}}\t{{index .Config.Labels \"com.docker.compose.service\"}}\t"
      "{{index .Config.Labels \"com.docker.compose.project.config_files\"}}\t"
      "{{.State.Status}} {{.State.ExitCode}}\t"
      "{{range $n, $v := .NetworkSettings.Networks}}{{$n}} {{end}}\t"
      "{{range $p, $b := .NetworkSettings.Ports}}{{$p}}={{range $b}}"
      "{{.HostPort}},{{end}} {{end}}\t"
      "{{range .Mounts}}{{if eq .Destination \"" +
          std::string(container::scenario) + "\"}}{{.Source}}{{end}}{{end}}"};
  std::istringstream id_lines(*ids);
  for (std::string id; std::getline(id_lines, id);) {
    if (!id.empty()) args.push_back(id);
  }
  const auto none = [&] {
    return std::unexpected(
        "no containers of compose " + std::string(is_file ? "file " : "project ") + spec +
        ": start it with `docker compose up -d`" + (is_file ? "" : " (or name its compose file)"));
  };
  if (args.size() == 3) return none();
  auto described = docker(args);
  if (!described) return std::unexpected(described.error());
  std::vector<Container> containers;
  std::istringstream lines(*described);
  for (std::string line; std::getline(lines, line);) {
    const auto fields = split(line, '\t');
    if (fields.size() < 7) continue;
    if (is_file) {
      bool match = false;
      for (const auto& config : split(fields[2], ',')) {
        match = match || std::filesystem::weakly_canonical(config, ec).string() == file;
      }
      if (!match) continue;
    }
    const auto state = split(fields[3], ' ');
    Container c{.id = fields[0],
                .service = fields[1],
                .status = state.front(),
                .exit_code = state.size() > 1 ? std::atoi(state[1].c_str()) : 0,
                .network = {},
                .ports = {},
                .scenario = fields[6]};
    const auto networks = split(fields[4], ' ');
    if (!networks.empty()) c.network = networks.front();
    for (const auto& mapping : split(fields[5], ' ')) {
      const auto eq = mapping.find('=');
      const auto slash = mapping.find('/');
      if (eq == std::string::npos || slash == std::string::npos || eq + 1 == mapping.size())
        continue;
      // "7000/tcp=49153," (an IPv4 and an IPv6 binding give two ports: the first is enough)
      c.ports.emplace_back(mapping.substr(0, slash), std::atoi(mapping.c_str() + eq + 1));
    }
    containers.push_back(std::move(c));
  }
  if (containers.empty()) return none();
  return containers;
}

}  // namespace mkt::marketctl
