#!/usr/bin/env python3
"""Hugging Face transformers' last-token hidden states and token ids on real GGUF models, the
independent reference for relmoe's GGUF loading, Gemma 3 forward and GGUF tokenizers.

transformers loads the GGUF file itself (dequantized by the gguf package, its converter's
transforms undone, its tokenizer built from the metadata), on CPU in float32. The prompts are
real relevance pairs from dev.tsv, two per market (the first two rows of each), rendered with
relmoe's default template (text/prompt_template.hpp). For each FILE.gguf it writes
OUT_DIR/<stem>.hidden.jsonl, one line per prompt:
  {"market", "text", "ids" (with special tokens), "ids_plain" (without), "last_hidden"}
where last_hidden is model(ids).last_hidden_state[0, -1] (after the final norm), one prompt per
forward, as float32 decimals. With --save-pretrained, the model (for causal LM) is also written to
OUT_DIR/<stem>.hf/ with save_pretrained (safetensors, config.json, tokenizer files), so the
same prompts can be checked from a safetensors checkpoint.

Usage: scripts/gguf_hidden_reference.py [--save-pretrained] DEV_TSV OUT_DIR FILE.gguf...
"""
import csv
import json
import sys
from pathlib import Path

import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer

PER_MARKET = 2


def render(query: str, market: str, item: str, item_desc: str) -> str:
    text = f"Query: {query}\nMarket: {market}\nProduct: {item}\n"
    if item_desc:
        text += f"{item_desc}\n"
    return text + "Is the product relevant to the query? Answer:"


def prompts(dev_tsv: Path) -> list[dict]:
    chosen, seen = [], {}
    with dev_tsv.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            market = row["market"]
            if seen.get(market, 0) >= PER_MARKET:
                continue
            seen[market] = seen.get(market, 0) + 1
            chosen.append({"market": market, "text": render(row["query"], market, row["item"], row["item_desc"])})
    return chosen


def main() -> None:
    args = sys.argv[1:]
    save = "--save-pretrained" in args
    args = [a for a in args if a != "--save-pretrained"]
    dev_tsv, out_dir, files = Path(args[0]), Path(args[1]), [Path(a) for a in args[2:]]
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    rows = prompts(dev_tsv)
    for path in files:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModel.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
        model.eval()
        target = out_dir / (path.stem + ".hidden.jsonl")
        with target.open("w", encoding="utf-8") as out, torch.inference_mode():
            for row in rows:
                ids = tokenizer(row["text"], add_special_tokens=True)["input_ids"]
                plain = tokenizer(row["text"], add_special_tokens=False)["input_ids"]
                hidden = model(input_ids=torch.tensor([ids])).last_hidden_state[0, -1]
                out.write(json.dumps({**row, "ids": ids, "ids_plain": plain,
                                      "last_hidden": [float(x) for x in hidden.float()]}) + "\n")
        if save:  # a model loaded from GGUF refuses save_pretrained; its weights go into a fresh one
            causal = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
            config = causal.config
            if hasattr(config, "quantization_config"):
                del config.quantization_config
            fresh = type(causal)(config)
            fresh.load_state_dict(causal.state_dict())
            fresh.save_pretrained(out_dir / (path.stem + ".hf"))
            tokenizer.save_pretrained(out_dir / (path.stem + ".hf"))
        print(f"gguf_hidden_reference: {path.name}: {len(rows)} prompts -> {target}"
              f" ({type(model).__name__}, {model.config.model_type})")


if __name__ == "__main__":
    main()
