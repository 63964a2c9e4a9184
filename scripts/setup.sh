#!/usr/bin/env bash
# Installs relmoe's build and test dependencies from Debian packages (PyTorch 2.x comes from PyPI
# into .venv: scripts/python_env.sh). Idempotent:
# apt-get runs only when something is missing, and `apt-get update` at most once.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git python3 python3-venv ccache
  libtorch-dev libopenblas0-openmp libopenblas-openmp-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libpcre2-dev libutf8proc-dev sentencepiece
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  chromium libxml2-dev libpng-dev
  openmpi-bin libcpp-httplib-dev libboost-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libtorch must use the OpenMP OpenBLAS, not the reference BLAS (about 10x slower).
blas=$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || true)
if [[ "$blas" != *openblas* ]]; then
  echo "setup: warning: libblas.so.3 points to '$blas', not OpenBLAS" >&2
fi
