#!/usr/bin/env python3
"""Loads a checkpoint directory with Hugging Face transformers (AutoTokenizer, AutoModel, f32,
CPU), the independent check that a directory relmoe wrote (`relmoe convert`) is one transformers
reads. For the first N prompts of a hidden-state reference (scripts/gguf_hidden_reference.py's
<stem>.hidden.jsonl), it prints one JSON line: whether the tokenizer gives the reference ids, and
the largest |difference| from the reference last-token hidden states.

Usage: scripts/hf_load_check.py CHECKPOINT_DIR HIDDEN_JSONL [N]
"""
import json
import sys

import torch
from transformers import AutoModel, AutoTokenizer


def main() -> None:
    directory, reference = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    with open(reference, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f][:count]
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = AutoModel.from_pretrained(directory, dtype=torch.float32).eval()
    ids_equal, worst = True, 0.0
    with torch.inference_mode():
        for row in rows:
            ids = tokenizer(row["text"], add_special_tokens=True)["input_ids"]
            ids_equal &= ids == row["ids"]
            hidden = model(input_ids=torch.tensor([row["ids"]])).last_hidden_state[0, -1]
            worst = max(worst, (hidden - torch.tensor(row["last_hidden"])).abs().max().item())
    print(json.dumps({"model": type(model).__name__, "prompts": len(rows), "ids_equal": ids_equal,
                      "max_abs_diff": worst}))


if __name__ == "__main__":
    main()
