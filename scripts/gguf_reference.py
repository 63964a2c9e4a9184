#!/usr/bin/env python3
"""Independent references for relmoe's GGUF support, computed with the `gguf` package (the reader
and numpy dequantizer that HF transformers uses to load GGUF files).

For each GGUF file given, writes OUT_DIR/<file stem>.dequant.json:
  {"file": ..., "size": bytes, "version": n, "alignment": n, "metadata_keys": n,
   "tensors": {name: {"type": "Q4_K", "shape": [outermost first], "sum": "u64", "wsum": "u64"}}}
where, over the float32 bit patterns b[0..n) of gguf.quants.dequantize's output (row-major),
sum = Σ b[i] and wsum = Σ (i + 1) · b[i], both mod 2^64 (decimal strings): any changed bit, or
any two values swapped, changes the pair.

With --all-types, it first writes OUT_DIR/all-types.gguf with gguf's own writer: random blocks of
every type relmoe dequantizes (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, finite
random scales), and describes it the same way, so types the real files lack are covered too.

Usage: scripts/gguf_reference.py [--all-types] OUT_DIR [FILE.gguf...]   (scripts/models.sh runs it)
"""
import json
import sys
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

CHUNK = 1 << 24  # elements per step, so the largest embedding needs no extra gigabytes


def checksums(values: np.ndarray) -> tuple[int, int]:
    bits = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32)
    total = np.uint64(0)
    weighted = np.uint64(0)
    with np.errstate(over="ignore"):
        for start in range(0, bits.size, CHUNK):
            part = bits[start:start + CHUNK].astype(np.uint64)
            index = np.arange(start + 1, start + 1 + part.size, dtype=np.uint64)
            total += part.sum(dtype=np.uint64)
            weighted += (part * index).sum(dtype=np.uint64)
    return int(total), int(weighted)


def describe(path: Path) -> dict:
    reader = GGUFReader(str(path))
    tensors = {}
    for t in reader.tensors:
        values = dequantize(t.data, t.tensor_type)
        shape = [int(d) for d in reversed(t.shape.tolist())]
        assert values.size == int(np.prod(shape)), t.name
        total, weighted = checksums(values)
        tensors[t.name] = {"type": t.tensor_type.name, "shape": shape, "sum": str(total), "wsum": str(weighted)}
    version = int(reader.fields["GGUF.version"].parts[-1][0])
    return {"file": path.name, "size": path.stat().st_size, "version": version,
            "alignment": int(reader.alignment), "metadata_keys": int(reader.fields["GGUF.kv_count"].parts[-1][0]), "tensors": tensors}


# Byte offsets of the f16 scale fields inside one block of each quantized type.
HALF_FIELDS = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
               "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}


def write_all_types(path: Path) -> None:
    rng = np.random.default_rng(0)
    writer = GGUFWriter(str(path), "relmoe-all-types")
    rows, row = 4, 512
    values = rng.standard_normal((rows, row)).astype(np.float32)
    values[0, :4] = [0.0, -0.0, 6.1e-5, 1e-40]  # zeros, a half subnormal, an f32 subnormal
    writer.add_tensor("F32", values)
    writer.add_tensor("F16", values.astype(np.float16))
    writer.add_tensor("BF16", (values.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8).reshape(rows, -1),
                      raw_dtype=GGMLQuantizationType.BF16)
    for name, offsets in HALF_FIELDS.items():
        qtype = GGMLQuantizationType[name]
        block_elements, block_bytes = GGML_QUANT_SIZES[qtype]
        blocks = rng.integers(0, 256, size=(rows * row // block_elements, block_bytes), dtype=np.uint8)
        for offset in offsets:  # finite scales, some of them subnormal halves
            scales = (rng.standard_normal(blocks.shape[0]) * 0.05).astype(np.float16)
            scales[::7] = np.float16(3e-6)
            blocks[:, offset:offset + 2] = scales.view(np.uint8).reshape(-1, 2)
        writer.add_tensor(name, blocks.reshape(rows, -1), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main() -> None:
    args = sys.argv[1:]
    all_types = "--all-types" in args
    args = [a for a in args if a != "--all-types"]
    out_dir = Path(args[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    files = args[1:]
    if all_types:
        write_all_types(out_dir / "all-types.gguf")
        files.insert(0, str(out_dir / "all-types.gguf"))
    for name in files:
        path = Path(name)
        result = describe(path)
        target = out_dir / (path.stem + ".dequant.json")
        target.write_text(json.dumps(result, indent=1) + "\n")
        types = sorted({t["type"] for t in result["tensors"].values()})
        print(f"gguf_reference: {path.name}: {len(result['tensors'])} tensors ({', '.join(types)}) -> {target}")


if __name__ == "__main__":
    main()
