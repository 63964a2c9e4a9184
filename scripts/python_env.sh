#!/usr/bin/env bash
# Installs PyTorch 2.x (with its CUDA-enabled libtorch) and HF transformers into the project's own
# virtual environment, .venv/, pinned by version and hash (scripts/requirements-torch.txt).
# Idempotent: nothing happens when .venv already holds exactly these pins. pip's wheel cache
# (~/.cache/pip) makes a new clone's install a local unpack. Prints the venv's python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
requirements=scripts/requirements-torch.txt
stamp=$venv/.requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "python_env: installing $requirements into $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: -r "$requirements" >&2
  echo "$want" > "$stamp"
fi
echo "$PWD/$venv/bin/python"
