// relmoe env: what this binary was built against and what it sees (libtorch, CUDA, devices,
// threads, the attention kernel), as text or one JSON object.
#include "cli/command.hpp"
#include "runtime/accelerator.hpp"
#include "runtime/compute.hpp"
#include "runtime/torch_compat.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace relmoe::cli {
namespace {

int run(bool as_json) {
  const auto info = build_info();
  const nlohmann::json out{{"libtorch", info.torch_version},
                           {"cuda_built", info.cuda_built},
                           {"cuda_runtime", info.cuda_version},
                           {"devices", info.devices},
                           {"threads", resolve_threads(0)},
                           {"fused_attention", compat::has_fused_attention}};
  if (as_json) {
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << "libtorch        " << info.torch_version << "\n"
            << "CUDA built in   " << (info.cuda_built ? "yes (runtime " + info.cuda_version + ")" : "no") << "\n"
            << "devices         " << devices_present() << "\n"
            << "threads         " << resolve_threads(0) << "\n"
            << "attention       "
            << (compat::has_fused_attention ? "scaled_dot_product_attention (manual where softcapped)" : "manual")
            << "\n";
  return 0;
}

const Register command{{"env", "Print the libtorch version, whether CUDA is built in, and the devices this binary sees",
                        [](CLI::App& sub) {
                          auto as_json = std::make_shared<bool>(false);
                          sub.add_flag("--json", *as_json, "one JSON object");
                          return [as_json] { return run(*as_json); };
                        }}};

}  // namespace
}  // namespace relmoe::cli
