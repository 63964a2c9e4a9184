#!/usr/bin/env python3
"""Token ids from the tokenizers that Hugging Face transformers builds from GGUF metadata, the
independent reference for relmoe's GGUF tokenizers (io/gguf_tokenizer.hpp).

GGUF files carry no tokenizer.json: transformers rebuilds one from `tokenizer.ggml.*` (its
integrations/gguf/gguf_tokenizer_mapping.py). For each FILE.gguf given, and for three GGUF
vocabularies this script writes with the gguf package's own writer into OUT_DIR/vocab/ (no
tensors, just the tokenizer metadata llama.cpp's converter writes):
  qwen2.gguf      tokenizer.ggml.model gpt2, pre qwen2,     from ../shared/tokenizers/qwen2.5
  llama-bpe.gguf  tokenizer.ggml.model gpt2, pre llama-bpe, from ../shared/tokenizers/llama3,
                  add_bos_token true (as Llama 3 files have it)
  llama-spm.gguf  tokenizer.ggml.model llama (SentencePiece; merges rebuilt from the scores),
                  general.architecture llama, the first FILE.gguf's SentencePiece vocabulary
it writes OUT_DIR/<stem>.tokens.jsonl, one line per string:
  {"text", "ids" (add_special_tokens=False), "ids_with_special" (True)}
The strings are the 208 e-commerce strings and the 66 edge cases of
../shared/reference/tokenization/. It also writes OUT_DIR/gemma3-tokenizer-json.tokens.jsonl
from ../shared/tokenizers/gemma3/tokenizer.json through the `tokenizers` library.

Usage: scripts/gguf_tokenizer_reference.py SHARED_DIR OUT_DIR FILE.gguf...
"""
import json
import sys
from pathlib import Path

from gguf import GGUFReader, GGUFWriter
from tokenizers import Tokenizer
from transformers import AutoTokenizer


def strings(shared: Path) -> list[str]:
    tokenization = shared / "reference" / "tokenization"
    with (tokenization / "ecommerce" / "gemma2.jsonl").open(encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    edge = json.loads((tokenization / "reference-ids-66" / "gemma2.json").read_text(encoding="utf-8"))
    return texts + [case["text"] for case in edge["tests"]]


def write_bpe_vocab(tokenizer_json: Path, architecture: str, pre: str, bos_eos: tuple[str, str], add_bos: bool,
                    out: Path) -> None:
    """A byte-level BPE tokenizer.json as llama.cpp's converter stores it: tokens by id, merges,
    added special tokens as control (3), other added tokens as user-defined (4), the BOS / EOS
    ids and add_bos_token as the converter writes them for that family."""
    root = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    vocab = root["model"]["vocab"]
    added = {token["id"]: token for token in root["added_tokens"]}
    size = max(max(vocab.values()), max(added, default=0)) + 1
    tokens, types = [f"[PAD{i}]" for i in range(size)], [1] * size
    for token, index in vocab.items():
        tokens[index] = token
    for index, token in added.items():
        tokens[index], types[index] = token["content"], 3 if token["special"] else 4
    merges = [m if isinstance(m, str) else " ".join(m) for m in root["model"]["merges"]]
    writer = GGUFWriter(str(out), architecture)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index(bos_eos[0]))
    writer.add_eos_token_id(tokens.index(bos_eos[1]))
    writer.add_add_bos_token(add_bos)
    finish(writer)


def write_spm_vocab(source: Path, out: Path) -> None:
    """The SentencePiece vocabulary of `source` (tokens, scores, token types) under
    general.architecture llama, so transformers builds a LlamaTokenizer with merges from scores."""
    reader = GGUFReader(str(source))
    field = lambda name: reader.fields[name].contents()
    writer = GGUFWriter(str(out), "llama")
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(field("tokenizer.ggml.tokens"))
    writer.add_token_scores(field("tokenizer.ggml.scores"))
    writer.add_token_types(field("tokenizer.ggml.token_type"))
    for key, add in (("bos_token_id", writer.add_bos_token_id), ("eos_token_id", writer.add_eos_token_id),
                     ("unknown_token_id", writer.add_unk_token_id), ("padding_token_id", writer.add_pad_token_id)):
        add(field(f"tokenizer.ggml.{key}"))
    finish(writer)


def finish(writer: GGUFWriter) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_ids(encode, texts: list[str], target: Path) -> None:
    with target.open("w", encoding="utf-8") as out:
        for text in texts:
            out.write(json.dumps({"text": text, "ids": encode(text, False), "ids_with_special": encode(text, True)},
                                 ensure_ascii=False) + "\n")
    print(f"gguf_tokenizer_reference: {len(texts)} strings -> {target}")


def main() -> None:
    shared, out_dir, files = Path(sys.argv[1]), Path(sys.argv[2]), [Path(a) for a in sys.argv[3:]]
    vocab_dir = out_dir / "vocab"
    vocab_dir.mkdir(parents=True, exist_ok=True)
    texts = strings(shared)
    write_bpe_vocab(shared / "tokenizers" / "qwen2.5" / "tokenizer.json", "qwen2", "qwen2",
                    ("<|endoftext|>", "<|im_end|>"), False, vocab_dir / "qwen2.gguf")
    write_bpe_vocab(shared / "tokenizers" / "llama3" / "tokenizer.json", "llama", "llama-bpe",
                    ("<|begin_of_text|>", "<|eot_id|>"), True, vocab_dir / "llama-bpe.gguf")
    write_spm_vocab(files[0], vocab_dir / "llama-spm.gguf")
    for path in files + sorted(vocab_dir.glob("*.gguf")):
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        encode = lambda text, special: tokenizer(text, add_special_tokens=special)["input_ids"]
        write_ids(encode, texts, out_dir / f"{path.stem}.tokens.jsonl")
    gemma3 = Tokenizer.from_file(str(shared / "tokenizers" / "gemma3" / "tokenizer.json"))
    write_ids(lambda text, special: gemma3.encode(text, add_special_tokens=special).ids, texts,
              out_dir / "gemma3-tokenizer-json.tokens.jsonl")


if __name__ == "__main__":
    main()
