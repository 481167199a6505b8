#pragma once
// The pieces every marketctl command shares: option parsing with --help, --run, and the commands
// themselves (each returns the process's exit code: 0 done, 1 failed, 2 bad command line).

#include <boost/program_options.hpp>
#include <expected>
#include <string>

namespace mkt::marketctl {

// The run folder when no --run is given.
inline constexpr const char* default_run_dir = "run";

// Parses a command's arguments (argv[0] is the command's name). `usage` is printed by --help
// (to stdout, exit 0) and after a bad command line (to stderr, exit 2); the options are printed
// after it. Every command takes --help; `with_run` adds --run <dir>.
std::expected<boost::program_options::variables_map, int> parse_command(
    int argc, char** argv, const std::string& usage,
    boost::program_options::options_description options,
    const boost::program_options::positional_options_description& positional, bool with_run = true);

// Prints "marketctl <command>: <why>" to stderr and returns `code`, the exit code.
int fail(const std::string& command, const std::string& why, int code = 1);

// Writes a file a command made to `output` (atomically), or to stdout when it is "-"; after a
// file, prints "wrote <output>: <then>". The exit code.
int write_output(const std::string& command, const std::string& output, const std::string& text,
                 const std::string& then);

int up_command(int argc, char** argv);
int down_command(int argc, char** argv);
// kill, restart, pause, unpause, disconnect, connect: one node, named by argv[0].
int node_command(int argc, char** argv);
int compose_command(int argc, char** argv);
int prometheus_command(int argc, char** argv);
int prepare_command(int argc, char** argv);
int probe_command(int argc, char** argv);
int verify_command(int argc, char** argv);
int drill_command(int argc, char** argv);
int status_command(int argc, char** argv);
int partition_command(int argc, char** argv);
int heal_command(int argc, char** argv);
int link_command(int argc, char** argv);
int order_command(int argc, char** argv);
int book_command(int argc, char** argv);
int ledger_command(int argc, char** argv);

}  // namespace mkt::marketctl
