# Writes a Llama-3.2-1B-shaped model with random weights (fp16, transformers' own initialisation) in the
# Hugging Face layout calm's tools/convert.py reads: config.json, model.safetensors, tokenizer.json.
# Usage: python3 make_model.py OUT_DIR TOKENIZER_JSON
import shutil
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

out, tokenizer = sys.argv[1], sys.argv[2]
# Llama-3.2-1B's published config (what kubeinfer-worker bench --synthetic llama3.2-1b builds).
cfg = LlamaConfig(
    vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
    num_attention_heads=32, num_key_value_heads=8, head_dim=64, max_position_embeddings=131072,
    rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True, bos_token_id=128000,
    eos_token_id=128001, hidden_act="silu", architectures=["LlamaForCausalLM"],
)
torch.manual_seed(0)
with torch.device("cuda"):
    model = LlamaForCausalLM(cfg).half()
model.save_pretrained(out, safe_serialization=True)
shutil.copy(tokenizer, f"{out}/tokenizer.json")
print(f"{out}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f}B parameters, fp16")
