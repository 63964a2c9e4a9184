#pragma once
// Where the build put things, from a generated translation unit (CMakeLists.txt): the absolute
// paths of a checkout live in one small object, so every other test object compiles the same in
// any clone and a compiler cache shared between clones keeps hitting.
namespace relmoe::test_paths {

const char* shared_dir();  // ../shared beside the checkout (RELMOE_SHARED_DIR)
const char* binary();      // the relmoe executable of this build
const char* source_dir();  // the checkout

}  // namespace relmoe::test_paths
