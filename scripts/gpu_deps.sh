#!/usr/bin/env bash
# Packs what the GPU machine lacks to build relmoe into .gpu-deps/ (ignored; carried along to
# that machine): the -dev headers of pcre2, utf8proc, libxml2, spdlog and cpp-httplib, their
# pkg-config/CMake files made relocatable, and the libraries it has no copy of (utf8proc,
# Debian's spdlog and cpp-httplib, so headers and library versions agree). The machine has the
# pcre2-8 and libxml2 runtime libraries; scripts/gpu.sh links against those. Also dev.tsv and the
# Qwen2.5 tokenizer from ../shared, for the benchmark.
#   scripts/gpu_deps.sh    (here, after scripts/setup.sh)   -> .gpu-deps/
set -euo pipefail
cd "$(dirname "$0")/.."
src=/usr/lib/x86_64-linux-gnu
dst=.gpu-deps
rm -rf "$dst"
mkdir -p "$dst/include" "$dst/lib/pkgconfig" "$dst/lib/x86_64-linux-gnu/cmake"
cp -a /usr/include/pcre2.h /usr/include/utf8proc.h /usr/include/httplib.h "$dst/include/"
cp -a /usr/include/libxml2 /usr/include/spdlog "$dst/include/"
cp -a "$src"/libutf8proc.so* "$src"/libcpp-httplib.so* "$dst/lib/"
cp -a "$src"/libspdlog.so* "$dst/lib/x86_64-linux-gnu/"
cp -a "$src/cmake/spdlog" "$dst/lib/x86_64-linux-gnu/cmake/"
# Relocatable .pc files; private requirements dropped (shared linking needs none of them).
for pc in libpcre2-8 libutf8proc libxml-2.0 cpp-httplib; do
  sed -e 's|^prefix=.*|prefix=${pcfiledir}/../..|' -e 's|^libdir=.*|libdir=${prefix}/lib|' \
      -e '/^Requires.private/d' -e '/^Libs.private/d' "$src/pkgconfig/$pc.pc" > "$dst/lib/pkgconfig/$pc.pc"
done
# What the benchmark reads of ../shared (which does not travel), laid out as there.
mkdir -p "$dst/shared/data/relevance" "$dst/shared/tokenizers"
cp -a ../shared/data/relevance/dev.tsv "$dst/shared/data/relevance/"
cp -a ../shared/tokenizers/qwen2.5 "$dst/shared/tokenizers/"
du -sh "$dst"
