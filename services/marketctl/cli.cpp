#include "cli.h"

#include <iostream>

#include "mkt/runtime/files.h"

namespace mkt::marketctl {

namespace po = boost::program_options;

std::expected<po::variables_map, int> parse_command(
    int argc, char** argv, const std::string& usage, po::options_description options,
    const po::positional_options_description& positional, bool with_run) {
  options.add_options()("help,h", "print this help");
  if (with_run) {
    options.add_options()("run", po::value<std::string>()->default_value(default_run_dir),
                          "the run folder of the market (as given to `marketctl up --run`)")(
        "compose", po::value<std::string>(),
        "a compose market instead: its project name or compose file");
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv)  // argv[0], the command, is skipped
                  .options(options)
                  .positional(positional)
                  .run(),
              vm);
    if (vm.count("help")) {
      std::cout << usage << "\n" << options;
      return std::unexpected(0);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::string why = e.what();
    // A missing positional argument is named as the usage shows it, not as a flag.
    if (const auto* missing = dynamic_cast<const po::required_option*>(&e)) {
      const std::string flag = missing->get_option_name();
      const std::string name = flag.substr(std::min(flag.find_first_not_of('-'), flag.size()));
      for (unsigned i = 0; i < std::min(positional.max_total_count(), 8u); ++i) {
        if (positional.name_for_position(i) == name) why = "the <" + name + "> argument is missing";
      }
    }
    std::cerr << "marketctl " << argv[0] << ": " << why << "\n\n" << usage << "\n" << options;
    return std::unexpected(2);
  }
  return vm;
}

int fail(const std::string& command, const std::string& why, int code) {
  std::cerr << "marketctl " << command << ": " << why << "\n";
  return code;
}

int write_output(const std::string& command, const std::string& output, const std::string& text,
                 const std::string& then) {
  if (output == "-") {
    std::cout << text;
    return 0;
  }
  if (auto ok = runtime::write_file_atomically(output, text); !ok) return fail(command, ok.error());
  std::cout << "wrote " << output << ": " << then << "\n";
  return 0;
}

}  // namespace mkt::marketctl
