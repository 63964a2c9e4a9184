#!/usr/bin/env python3
"""relmoe's decoder forward against HF transformers on the same safetensors files and token ids.

Run by scripts/gpu.sh (which builds bench_forward first); --dry-run runs the same steps at a tiny
shape on the CPU, HF transformers included, so CI keeps the script working without a GPU.

For each shape the script writes a randomly initialised checkpoint with transformers'
save_pretrained (bf16 safetensors), then, after a warm-up on each side, alternates rounds of
  - relmoe: `bench_forward --model DIR --device D --dtype bf16 --json` (CUDA-event timing), and
  - HF: AutoModel (attn_implementation="sdpa", bf16, torch.inference_mode), the last token's
    state from last_hidden_state, timed with CUDA events (the wall clock on the CPU);
and reports tokens/s, pairs/s, achieved TFLOP/s (the FLOPs the last-token state needs, as
bench_forward counts them) and their share of a bf16 GEMM timed in the same run.
Token ids are (7919 t + 131 b + 1) mod vocab for both, without padding.

Then, with --shared (a folder laid out as ../shared: data/relevance/dev.tsv and
tokenizers/qwen2.5/), the dev.tsv prompts (all 14,126; the first 256 in the dry run) through the
default template and the Qwen2.5 tokenizer on the same checkpoints: relmoe with its own batching
(`bench_forward --pairs`: length-sorted under a token budget, timed end to end, tokenization
included), HF in arrival order, batch 64, right-padded, the last real token's state, on exactly
the ids relmoe wrote (`--write-ids`), its batches built on the device before timing.

Last, with --pipeline, `relmoe score`'s QPS on three heterogeneous experts of real sizes
(`bench_pipeline --only 6`: Qwen2.5-7B, Llama-3-8B and Gemma2-9B shapes, weights drawn on the
device): hard top-2 against full fusion against serial.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import transformers

QWEN2_05B = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                 num_attention_heads=14, num_key_value_heads=2, rope_theta=1000000.0, rms_norm_eps=1e-6,
                 tie_word_embeddings=True)
QWEN25_7B = dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                 num_attention_heads=28, num_key_value_heads=4, rope_theta=1000000.0, rms_norm_eps=1e-6,
                 tie_word_embeddings=False)
TINY_QWEN25_VOCAB = dict(vocab_size=151936, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, rope_theta=1000000.0, rms_norm_eps=1e-6,
                         tie_word_embeddings=True)
TINY = dict(vocab_size=1000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, rope_theta=10000.0, rms_norm_eps=1e-6,
            tie_word_embeddings=True)


def fixed_ids(batch, tokens, vocab):
    b = torch.arange(batch).unsqueeze(1)
    t = torch.arange(tokens).unsqueeze(0)
    return (t * 7919 + b * 131 + 1) % vocab


def needed_flops(c, batch, tokens):
    """bench_forward's count: K/V for all tokens, Q/O/MLP for all but the last layer's non-last tokens."""
    h, heads = c["hidden_size"], c["num_attention_heads"]
    hd = h // heads
    qo, kv = 2 * h * heads * hd, 2 * h * c["num_key_value_heads"] * hd
    mlp, layers = 3 * h * c["intermediate_size"], c["num_hidden_layers"]
    per = layers * kv * tokens + (layers - 1) * (qo + mlp) * tokens + (qo + mlp)
    per += (layers - 1) * heads * hd * tokens * (tokens + 1) + 2 * heads * hd * tokens
    return 2 * per * batch


class Timer:
    """Seconds of a callable: CUDA events on a GPU, the wall clock on the CPU."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def __call__(self, fn):
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000.0
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t


def gemm_tflops(device, timer, n, iters=10):
    a = torch.randn(n, n, dtype=torch.bfloat16, device=device)
    b = torch.randn(n, n, dtype=torch.bfloat16, device=device)
    torch.mm(a, b)
    seconds = timer(lambda: [torch.mm(a, b) for _ in range(iters)])
    return 2 * n ** 3 * iters / seconds / 1e12


def write_checkpoint(config, directory, device):
    torch.manual_seed(0)
    hf_config = transformers.Qwen2Config(**config, dtype="bfloat16")
    with torch.device(device):
        model = transformers.Qwen2ForCausalLM(hf_config).to(torch.bfloat16)
    model.save_pretrained(directory, safe_serialization=True)
    del model


def hf_round(model, ids, mask, timer, iters):
    def run():
        for _ in range(iters):
            out = model(input_ids=ids, attention_mask=mask).last_hidden_state
            out[:, -1]
    return timer(run)


def gemm_size(device):
    """The anchor GEMM's size: a CPU bf16 mm is a slow scalar loop where there is no AVX512-BF16."""
    return 8192 if device.type == "cuda" else 256


def relmoe_round(bench, directory, device, batch, tokens, iters, threads):
    cmd = [bench, "--model", directory, "--device", str(device), "--dtype", "bf16", "--batch", str(batch),
           "--tokens", str(tokens), "--iters", str(iters), "--threads", str(threads),
           "--gemm", str(gemm_size(device)), "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def hf_pairs_round(model, batches, timer):
    """All dev prompts in arrival order, batch 64, right-padded: the last real token's state."""
    def run():
        for ids, mask, last in batches:
            out = model(input_ids=ids, attention_mask=mask).last_hidden_state
            out[torch.arange(out.shape[0], device=out.device), last]
    return timer(run)


def padded_batches(id_lists, device, batch=64):
    batches = []
    for start in range(0, len(id_lists), batch):
        chunk = id_lists[start:start + batch]
        width = max(len(ids) for ids in chunk)
        ids = torch.zeros(len(chunk), width, dtype=torch.long)
        mask = torch.zeros(len(chunk), width, dtype=torch.long)
        for row, seq in enumerate(chunk):
            ids[row, :len(seq)] = torch.tensor(seq)
            mask[row, :len(seq)] = 1
        last = torch.tensor([len(seq) - 1 for seq in chunk])
        batches.append((ids.to(device), mask.to(device), last.to(device)))
    return batches


def dev_prompts(args, name, directory, model, device, timer, threads, limit, rounds):
    """The dev.tsv part for one checkpoint (the Qwen2.5 tokenizer copied into it)."""
    tokenizer = os.path.join(args.shared, "tokenizers", "qwen2.5")
    for f in os.listdir(tokenizer):
        shutil.copy(os.path.join(tokenizer, f), directory)
    dev = os.path.join(args.shared, "data", "relevance", "dev.tsv")
    ids_file = os.path.join(directory, "dev_ids.jsonl")
    cmd = [args.bench, "--model", directory, "--pairs", dev, "--limit", str(limit), "--device", str(device),
           "--dtype", "bf16", "--threads", str(threads), "--gemm", str(gemm_size(device)), "--json"]
    relmoe_runs = [json.loads(subprocess.run(cmd + ["--write-ids", ids_file], check=True, capture_output=True,
                                             text=True).stdout.strip().splitlines()[-1])]
    with open(ids_file) as f:
        id_lists = [json.loads(line)["ids"] for line in f]
    batches = padded_batches(id_lists, device)
    tokens = sum(len(ids) for ids in id_lists)
    hf_s = []
    with torch.inference_mode():
        hf_pairs_round(model, batches[:1], timer)  # warm-up
        for r in range(rounds):  # interleaved (relmoe's first round ran above)
            hf_s.append(hf_pairs_round(model, batches, timer))
            if r + 1 < rounds:
                relmoe_runs.append(json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                             text=True).stdout.strip().splitlines()[-1]))
    hf_seconds = statistics.median(hf_s)
    relmoe_seconds = statistics.median(r["seconds"] for r in relmoe_runs)
    padded = sum(b[0].numel() for b in batches)
    row = {"model": name, "prompts": len(id_lists), "tokens": tokens, "rounds": rounds,
           "hf_batch": 64, "hf_padding": 1 - tokens / padded, "hf_seconds": hf_seconds,
           "hf_pairs_per_s": len(id_lists) / hf_seconds, "hf_tokens_per_s": tokens / hf_seconds,
           "relmoe_batches": relmoe_runs[0]["batches"], "relmoe_token_budget": relmoe_runs[0]["token_budget"],
           "relmoe_padding": 1 - relmoe_runs[0]["tokens"] / relmoe_runs[0]["padded_tokens"],
           "relmoe_seconds": relmoe_seconds, "relmoe_pairs_per_s": len(id_lists) / relmoe_seconds,
           "relmoe_tokens_per_s": tokens / relmoe_seconds}
    row["relmoe_over_hf"] = hf_seconds / relmoe_seconds
    print(f"gpu_bench: {name} on {len(id_lists)} dev prompts ({tokens} tokens): relmoe {row['relmoe_pairs_per_s']:.0f} "
          f"pairs/s (padding {row['relmoe_padding']:.1%}), HF batch 64 {row['hf_pairs_per_s']:.0f} pairs/s "
          f"(padding {row['hf_padding']:.1%}); relmoe/HF {row['relmoe_over_hf']:.2f}", flush=True)
    return row


def pipeline_qps(args, device, threads, dry_run):
    """bench_pipeline's section 6: three heterogeneous experts, hard top-2 / full fusion / serial."""
    cmd = [args.pipeline, "--only", "6", "--shape", "tiny" if dry_run else "real", "--device", str(device),
           "--dtype", "bf16", "--pairs", "64" if dry_run else "512", "--repeat", "1", "--threads", str(threads),
           "--tokenizer", os.path.join(args.shared, "tokenizers", "qwen2.5", "tokenizer.json"), "--json"]
    env = dict(os.environ, RELMOE_SHARED=args.shared)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    print(out.strip(), flush=True)
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", required=True, help="the bench_forward binary")
    parser.add_argument("--out", required=True, help="folder for gpu_bench.json")
    parser.add_argument("--dry-run", action="store_true", help="tiny shape on the CPU")
    parser.add_argument("--shared", help="folder laid out as ../shared (dev.tsv, the Qwen2.5 tokenizer)")
    parser.add_argument("--pipeline", help="the bench_pipeline binary (relmoe score QPS; needs --shared)")
    args = parser.parse_args()
    device = torch.device("cpu" if args.dry_run else "cuda")
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_bench: no CUDA device visible to PyTorch; use --dry-run on a machine without one")
    threads = min(os.cpu_count() or 1, 16)
    torch.set_num_threads(threads)
    timer = Timer(device)
    if args.dry_run:
        shapes, rounds, iters = [("tiny-qwen2", TINY, [(4, 16)]), ("tiny-qwen2.5-vocab", TINY_QWEN25_VOCAB, [])], 2, 2
    else:
        shapes, rounds, iters = [("qwen2-0.5b", QWEN2_05B, [(64, 128), (256, 128)]),
                                 ("qwen2.5-7b", QWEN25_7B, [(64, 128), (256, 128)])], 5, 5
    gemm = gemm_tflops(device, timer, gemm_size(device))
    report = {"device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "transformers": transformers.__version__,
              "gemm_bf16_tflops": gemm, "dry_run": args.dry_run, "shapes": [], "dev_prompts": []}
    print(f"gpu_bench: {report['device']}, torch {torch.__version__}, bf16 GEMM {gemm:.1f} TFLOP/s", flush=True)
    with tempfile.TemporaryDirectory(prefix="relmoe_gpu_bench_") as scratch:
        for name, config, sizes in shapes:
            directory = os.path.join(scratch, name)
            write_checkpoint(config, directory, device)
            model = transformers.AutoModel.from_pretrained(directory, dtype=torch.bfloat16,
                                                           attn_implementation="sdpa").to(device).eval()
            for batch, tokens in sizes:
                ids = fixed_ids(batch, tokens, config["vocab_size"]).to(device)
                mask = torch.ones_like(ids)
                flops = needed_flops(config, batch, tokens) * iters
                hf_s, relmoe_runs = [], []
                with torch.inference_mode():
                    hf_round(model, ids, mask, timer, 1)  # warm-up
                    for _ in range(rounds):  # interleaved
                        relmoe_runs.append(relmoe_round(args.bench, directory, device, batch, tokens, iters, threads))
                        hf_s.append(hf_round(model, ids, mask, timer, iters))
                hf_seconds = statistics.median(hf_s)
                relmoe_tokens = statistics.median(r["tokens_per_s"] for r in relmoe_runs)
                row = {"model": name, "batch": batch, "tokens": tokens, "rounds": rounds, "iters": iters,
                       "hf_tokens_per_s": batch * tokens * iters / hf_seconds,
                       "hf_pairs_per_s": batch * iters / hf_seconds,
                       "hf_tflops": flops / hf_seconds / 1e12,
                       "relmoe_tokens_per_s": relmoe_tokens,
                       "relmoe_pairs_per_s": relmoe_tokens / tokens,
                       "relmoe_tflops": statistics.median(r["gflops"] for r in relmoe_runs) / 1e3}
                row["hf_share_of_gemm"] = row["hf_tflops"] / gemm
                row["relmoe_share_of_gemm"] = row["relmoe_tflops"] / gemm
                row["relmoe_over_hf"] = row["relmoe_tokens_per_s"] / row["hf_tokens_per_s"]
                report["shapes"].append(row)
                print(f"gpu_bench: {name} {batch}x{tokens}: relmoe {row['relmoe_tokens_per_s']:.0f} tokens/s "
                      f"({row['relmoe_share_of_gemm']:.2f} of GEMM), HF {row['hf_tokens_per_s']:.0f} tokens/s "
                      f"({row['hf_share_of_gemm']:.2f}); relmoe/HF {row['relmoe_over_hf']:.2f}", flush=True)
            if args.shared and config["vocab_size"] > 151664:  # holds the Qwen2.5 tokenizer's ids
                report["dev_prompts"].append(dev_prompts(args, name, directory, model, device, timer, threads,
                                                         256 if args.dry_run else 0, 2))
            del model
            shutil.rmtree(directory)
            if device.type == "cuda":
                torch.cuda.empty_cache()
    if args.pipeline:
        report["score_qps"] = pipeline_qps(args, device, threads, args.dry_run)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "gpu_bench.json"), "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
