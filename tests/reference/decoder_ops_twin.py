"""PyTorch twin of the decoder families' RMSNorm and rotary embeddings, written from transformers'
modeling_qwen2.py / modeling_llama.py (Qwen2RMSNorm, rotate_half, apply_rotary_pos_emb, Qwen2RotaryEmbedding) and
modeling_rope_utils.py (_compute_default_rope_parameters, _compute_llama3_parameters).

usage: /usr/bin/python3 decoder_ops_twin.py OUT.safetensors

Writes fp32 tensors: rms.x (R, C), rms.w (C), rms.dy (R, C) and the twin's rms.y, rms.dx, rms.dw (autograd of
Σ y·dy); rope.q (B, T, NH, D), rope.dy, positions (T, I64) and, for the default and the llama3 inv_freq,
rope.<kind>.inv_freq, rope.<kind>.y, rope.<kind>.dx. Sizes and constants are in the metadata-free names.
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_twin import write_safetensors  # noqa: E402

EPS = 1e-6
THETA = 500000.0
LLAMA3 = {"factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}


def rms_norm(x, weight, eps):  # Qwen2RMSNorm.forward
    input_dtype = x.dtype
    h = x.to(torch.float32)
    variance = h.pow(2).mean(-1, keepdim=True)
    h = h * torch.rsqrt(variance + eps)
    return weight * h.to(input_dtype)


def default_inv_freq(dim, base):  # _compute_default_rope_parameters
    return 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=torch.float) / dim))


def llama3_inv_freq(dim, base, s):  # _compute_llama3_parameters
    inv_freq = default_inv_freq(dim, base)
    factor, low_freq_factor, high_freq_factor = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    old_context_len = s["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rotary(q, inv_freq, position_ids):  # Qwen2RotaryEmbedding.forward + apply_rotary_pos_emb (unsqueeze_dim=1)
    q = q.transpose(1, 2)  # (B, NH, T, D)
    inv_freq_expanded = inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
    position_ids_expanded = position_ids[:, None, :].float()
    freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(q.dtype), emb.sin().to(q.dtype)
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    return ((q * cos) + (rotate_half(q) * sin)).transpose(1, 2)  # back to (B, T, NH, D)


def main():
    out = sys.argv[1]
    g = torch.Generator().manual_seed(7)
    R, C = 6, 48
    x = torch.randn(R, C, generator=g).requires_grad_()
    w = (1 + 0.1 * torch.randn(C, generator=g)).requires_grad_()
    dy = torch.randn(R, C, generator=g)
    y = rms_norm(x, w, EPS)
    (y * dy).sum().backward()
    tensors = {"rms.x": x, "rms.w": w, "rms.dy": dy, "rms.y": y, "rms.dx": x.grad, "rms.dw": w.grad}

    B, T, NH, D = 2, 40, 3, 64
    q = torch.randn(B, T, NH, D, generator=g)
    dq = torch.randn(B, T, NH, D, generator=g)
    positions = torch.arange(T, dtype=torch.int64) * 97  # far positions: the low frequencies matter
    tensors.update({"rope.q": q, "rope.dy": dq, "positions": positions})
    for kind, inv in (("default", default_inv_freq(D, THETA)), ("llama3", llama3_inv_freq(D, THETA, LLAMA3))):
        qq = q.clone().requires_grad_()
        y = rotary(qq, inv, positions[None, :].expand(B, T))
        (y * dq).sum().backward()
        tensors.update({f"rope.{kind}.inv_freq": inv, f"rope.{kind}.y": y, f"rope.{kind}.dx": qq.grad})
    write_safetensors(out, tensors)


if __name__ == "__main__":
    main()
