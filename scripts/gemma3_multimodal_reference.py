#!/usr/bin/env python3
"""A tiny random Gemma 3 multimodal checkpoint (Gemma3ForConditionalGeneration: a SigLIP vision
tower, the projector and a 7-layer Gemma 3 text model) saved by transformers, and the text
model's last-token hidden states on a few id sequences: the reference for reading the text
part of `gemma3` checkpoints (config.json's text_config, tensors under language_model.model.).
Sequences run past the 8-token sliding window, so local and global layers both matter.

Writes OUT_DIR/tiny-gemma3-multimodal/ and OUT_DIR/tiny-gemma3-multimodal.hidden.jsonl, one line
per sequence: {"ids", "last_hidden"} = Gemma3Model(input_ids).last_hidden_state[0, -1], f32 CPU.

Usage: scripts/gemma3_multimodal_reference.py OUT_DIR
"""
import json
import sys
from pathlib import Path

import torch
from transformers import Gemma3Config, Gemma3ForConditionalGeneration
from transformers.models.gemma3.configuration_gemma3 import Gemma3TextConfig
from transformers.models.siglip.configuration_siglip import SiglipVisionConfig


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    text = Gemma3TextConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=7,
                            num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=8,
                            query_pre_attn_scalar=16, max_position_embeddings=256, rope_theta=1000000.0)
    vision = SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                image_size=28, patch_size=14)
    config = Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4, image_token_index=511,
                          boi_token_index=509, eoi_token_index=510)
    model = Gemma3ForConditionalGeneration(config).eval()
    with torch.no_grad():  # norms away from zero, so a norm read as w instead of 1 + w shows
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):
                parameter.uniform_(-0.5, 0.5)
    model.save_pretrained(out / "tiny-gemma3-multimodal")
    generator = torch.Generator().manual_seed(1)
    with (out / "tiny-gemma3-multimodal.hidden.jsonl").open("w") as f, torch.inference_mode():
        for length in (5, 12, 20):
            ids = torch.randint(3, 500, (1, length), generator=generator)
            hidden = model.model(input_ids=ids).last_hidden_state[0, -1]
            f.write(json.dumps({"ids": ids[0].tolist(), "last_hidden": [float(x) for x in hidden]}) + "\n")
    print(f"gemma3_multimodal_reference: {out / 'tiny-gemma3-multimodal'}")


if __name__ == "__main__":
    main()
