#!/usr/bin/env bash
# Everything the GPU machine runs, in one go: build the needed targets against its CUDA
# PyTorch with all cores, run the CUDA-relevant tests, `relmoe env`, and the benchmarks
# (scripts/gpu_bench.py: the forward against HF transformers, on fixed shapes and on the dev.tsv
# prompts, and `relmoe score`'s QPS on three experts of real sizes); logs and gpu_bench.json
# under $OUT.
#
#   scripts/gpu.sh             on the GPU machine, with .gpu-deps/ (scripts/gpu_deps.sh) carried
#   scripts/gpu.sh --dry-run   here: the same steps on the CPU at a tiny shape, against .venv's
#                              PyTorch (CI runs this, so the script cannot rot)
# $OUT defaults to runs/gpu (or runs/gpu-dry-run).
set -euo pipefail
cd "$(dirname "$0")/.."
dry=false
[[ ${1:-} == --dry-run ]] && dry=true
out=${OUT:-runs/gpu$($dry && echo -dry-run)}
mkdir -p "$out"
started=$SECONDS
step() { echo "gpu.sh: $* ($((SECONDS - started)) s)"; }
export RELMOE_TARGETS="relmoe relmoe_tests bench_forward bench_pipeline"
if $dry; then
  python=$(bash scripts/python_env.sh)
  shared=$(realpath -m ../shared)
  dir=$(bash scripts/build.sh --torch pip 2>&1 | tee "$out/build.log" | tail -n 1)
else
  python=python3
  deps=$PWD/.gpu-deps
  [[ -d $deps ]] || { echo "gpu.sh: .gpu-deps/ is missing: run scripts/gpu_deps.sh here and carry it" >&2; exit 1; }
  shared=$deps/shared
  # Linker names for the runtime libraries that machine has without their -dev packages.
  for lib in libpcre2-8.so.0 libxml2.so.2; do ln -sf "/usr/lib/x86_64-linux-gnu/$lib" "$deps/lib/${lib%.*}"; done
  export PKG_CONFIG_PATH=$deps/lib/pkgconfig LD_LIBRARY_PATH=$deps/lib:$deps/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  torch_prefix=$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
  dir=$(RELMOE_BUILD_DIR=build-gpu bash scripts/build.sh --torch "$torch_prefix" \
          -DCMAKE_PREFIX_PATH="$torch_prefix;$deps" -DCMAKE_CXX_FLAGS="-I$deps/include" 2>&1 | tee "$out/build.log" | tail -n 1)
fi
step "built $dir"
"$dir/relmoe" env --json > "$out/env.json"
"$dir/relmoe" env
# The device seam, the parity of the forward and the lanes (CUDA tests skip without a GPU).
"$dir/relmoe_tests" --gtest_filter='Device.*:Env.*:CudaStream.*:SplitOnOom.*:LaneOnOom.*:LaneStreams.*:*Parity*' \
  --gtest_brief=1 2>&1 | tee "$out/tests.log"
step "tests passed"
# The dev.tsv prompts and the heterogeneous-experts QPS need dev.tsv and the Qwen2.5 tokenizer.
with_shared=()
if [[ -f $shared/data/relevance/dev.tsv && -d $shared/tokenizers/qwen2.5 ]]; then
  with_shared=(--shared "$shared" --pipeline "$dir/bench_pipeline")
else
  echo "gpu.sh: $shared has no data/relevance/dev.tsv and tokenizers/qwen2.5: the dev-prompt and score-QPS parts are skipped" >&2
fi
PYTHONUNBUFFERED=1 "$python" scripts/gpu_bench.py --bench "$dir/bench_forward" --out "$out" $($dry && echo --dry-run) \
  "${with_shared[@]}" 2>&1 | tee "$out/bench.log"
step "benchmark written to $out/gpu_bench.json"
