#!/usr/bin/env python3
"""The independent check of relmoe's LoRA adapters: Hugging Face transformers loads the base
checkpoint (AutoModelForCausalLM, f32, CPU) and HF PEFT loads the adapter relmoe wrote
(PeftModel.from_pretrained). For each prompt of CASES_JSON, one at a time, it computes the
final-layer last-token hidden state and logit(yes) - logit(no); PEFT then saves the adapter
again (save_pretrained) into RESAVED_DIR, so relmoe can read PEFT's own writing back.

CASES_JSON: {"yes": ID, "no": ID, "prompts": [[ID, ...], ...]}
Prints one JSON line: {"scores": [...], "last_hidden": [[...], ...], "peft": VERSION}

Usage: scripts/peft_check.py BASE_DIR ADAPTER_DIR CASES_JSON RESAVED_DIR
"""
import json
import sys

import peft
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM


def main() -> None:
    base, adapter, cases_file, resaved = sys.argv[1:5]
    with open(cases_file, encoding="utf-8") as f:
        cases = json.load(f)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = PeftModel.from_pretrained(model, adapter).eval()
    scores, hidden = [], []
    with torch.inference_mode():
        for ids in cases["prompts"]:
            out = model(input_ids=torch.tensor([ids]), output_hidden_states=True)
            logits = out.logits[0, -1]
            scores.append((logits[cases["yes"]] - logits[cases["no"]]).item())
            hidden.append(out.hidden_states[-1][0, -1].tolist())
    model.save_pretrained(resaved)
    print(json.dumps({"scores": scores, "last_hidden": hidden, "peft": peft.__version__}))


if __name__ == "__main__":
    main()
