#!/usr/bin/python3
"""Trains zt4ai's demo model: a ~3.4M-parameter character-level llama on the King James Bible.

The text comes from Debian's bible-kjv package (the `bible` program prints every verse); the vocabulary comes
from simulator/model/vocab.ts via vocab-json.ts, so token ids are the ones the GGUF file declares. Output is
a raw little-endian float32 dump plus a JSON manifest that export-gguf.ts turns into the GGUF file, so the
repository has one GGUF writer.

The model is the llama architecture exactly as llama.cpp computes it: RMSNorm, RoPE over *consecutive* pairs
of each head's values (llama.cpp's LLAMA_ROPE_TYPE_NORM, Meta's original formulation), SwiGLU FFN, untied
output matrix. Because the rotation already uses consecutive pairs, the q/k weights are exported as they are;
convert_hf_to_gguf's permutation exists only to undo Hugging Face's rotate-half layout, which this is not.

Usage: see README.md next to this file.
"""

import argparse
import json
import math
import os
import re
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

VERSES_IN_KJV = 31102
REFERENCE = re.compile(r"^[1-3]?[A-Za-z]+[0-9]+:[0-9]+ ")


def kjv_verses():
    # -f prints one verse per line as "Ge1:1 In the beginning ..."; an empty COLUMNS keeps lines unwrapped.
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    out = subprocess.run(["bible", "-f", "gen1:1-rev22:21"], check=True, capture_output=True, env=env).stdout
    lines = [line for line in out.decode("utf-8").split("\n") if line]
    verses = []
    for line in lines:
        m = REFERENCE.match(line)
        if m is None:
            raise SystemExit(f"unexpected line from `bible`: {line[:60]!r}")
        verses.append(line[m.end():])
    if len(verses) != VERSES_IN_KJV:
        raise SystemExit(f"expected {VERSES_IN_KJV} verses from `bible`, got {len(verses)}")
    return verses


class Tokenizer:
    """Character tokenizer equal to llama.cpp's SPM tokenizer on this vocabulary (add_space_prefix off)."""

    def __init__(self, vocab):
        self.tokens = vocab["tokens"]
        self.bos = vocab["bosId"]
        self.chars = {}
        self.byte0 = self.tokens.index("<0x00>")
        for i, (tok, ty) in enumerate(zip(self.tokens, vocab["tokenTypes"])):
            if ty == 1:
                self.chars[" " if tok == "\u2581" else tok] = i

    def encode(self, text):
        ids = []
        for ch in text:
            i = self.chars.get(ch)
            if i is not None:
                ids.append(i)
            else:
                ids.extend(self.byte0 + b for b in ch.encode("utf-8"))
        return ids

    def decode(self, ids):
        out = bytearray()
        for i in ids:
            tok = self.tokens[i]
            if self.byte0 <= i < self.byte0 + 256:
                out.append(i - self.byte0)
            elif i >= self.byte0 + 256:
                out += tok.replace("\u2581", " ").encode("utf-8")
        return out.decode("utf-8", errors="replace")


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(n_ctx, head_dim, base):
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    ang = torch.arange(n_ctx, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()


def apply_rope(x, cos, sin):
    # x: (B, H, T, D). Rotates (x[2i], x[2i+1]) by pos * base^(-2i/D), as ggml's rope in NORM mode does.
    t = x.shape[-2]
    pairs = x.float().reshape(*x.shape[:-1], -1, 2)
    a, b = pairs[..., 0], pairs[..., 1]
    c, s = cos[:t], sin[:t]
    return torch.stack((a * c - b * s, a * s + b * c), dim=-1).flatten(-2).type_as(x)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, ff = cfg["n_embd"], cfg["n_ff"]
        self.n_head = cfg["n_head"]
        self.attn_norm = RMSNorm(d, cfg["rms_eps"])
        self.wq = nn.Linear(d, d, bias=False)
        self.wk = nn.Linear(d, d, bias=False)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d, cfg["rms_eps"])
        self.gate = nn.Linear(d, ff, bias=False)
        self.up = nn.Linear(d, ff, bias=False)
        self.down = nn.Linear(ff, d, bias=False)

    def forward(self, x, cos, sin, mask):
        bsz, t, d = x.shape
        hd = d // self.n_head
        h = self.attn_norm(x)
        q = self.wq(h).view(bsz, t, self.n_head, hd).transpose(1, 2)
        k = self.wk(h).view(bsz, t, self.n_head, hd).transpose(1, 2)
        v = self.wv(h).view(bsz, t, self.n_head, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.float().masked_fill(mask[:t, :t], float("-inf")).softmax(-1).type_as(v)
        y = (att @ v).transpose(1, 2).reshape(bsz, t, d)
        x = x + self.wo(y)
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_embd = nn.Embedding(cfg["n_vocab"], cfg["n_embd"])
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg["n_layer"]))
        self.norm = RMSNorm(cfg["n_embd"], cfg["rms_eps"])
        self.output = nn.Linear(cfg["n_embd"], cfg["n_vocab"], bias=False)
        cos, sin = rope_tables(cfg["n_ctx"], cfg["n_embd"] // cfg["n_head"], cfg["rope_base"])
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        mask = torch.triu(torch.ones(cfg["n_ctx"], cfg["n_ctx"], dtype=torch.bool), diagonal=1)
        self.register_buffer("mask", mask, persistent=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                # GPT-2 style: residual projections scaled down so the residual stream starts near unit scale.
                std = 0.02 / math.sqrt(2 * cfg["n_layer"]) if name.endswith(("wo.weight", "down.weight")) else 0.02
                nn.init.normal_(p, std=std)

    def forward(self, idx):
        x = self.tok_embd(idx)
        for blk in self.blocks:
            x = blk(x, self.cos, self.sin, self.mask)
        return self.output(self.norm(x))

    def gguf_tensors(self):
        """(GGUF name, tensor) in llama.cpp's naming; shapes stay PyTorch's [out, in]."""
        yield "token_embd.weight", self.tok_embd.weight
        for i, b in enumerate(self.blocks):
            yield f"blk.{i}.attn_norm.weight", b.attn_norm.weight
            yield f"blk.{i}.attn_q.weight", b.wq.weight
            yield f"blk.{i}.attn_k.weight", b.wk.weight
            yield f"blk.{i}.attn_v.weight", b.wv.weight
            yield f"blk.{i}.attn_output.weight", b.wo.weight
            yield f"blk.{i}.ffn_norm.weight", b.ffn_norm.weight
            yield f"blk.{i}.ffn_gate.weight", b.gate.weight
            yield f"blk.{i}.ffn_up.weight", b.up.weight
            yield f"blk.{i}.ffn_down.weight", b.down.weight
        yield "output_norm.weight", self.norm.weight
        yield "output.weight", self.output.weight


def batches(stream, starts, bos, n_ctx, batch, gen):
    # Each row is BOS + text from the start of a random verse, matching how a prompt reaches the model.
    picks = starts[torch.randint(len(starts), (batch,), generator=gen).numpy()]
    rows = np.stack([stream[s:s + n_ctx] for s in picks]).astype(np.int64)
    y = torch.from_numpy(rows)
    x = torch.cat((torch.full((batch, 1), bos, dtype=torch.int64), y[:, :-1]), dim=1)
    return x, y


def build_stream(tok, verses):
    ids, starts = [], []
    for v in verses:
        starts.append(len(ids))
        ids.extend(tok.encode(v + "\n"))
    return np.array(ids, dtype=np.int32), np.array(starts, dtype=np.int64)


@torch.no_grad()
def evaluate(model, stream, starts, bos, n_ctx, batch, n_batches):
    gen = torch.Generator().manual_seed(1234)
    usable = starts[starts + n_ctx <= len(stream)]
    losses = []
    for _ in range(n_batches):
        x, y = batches(stream, usable, bos, n_ctx, batch, gen)
        losses.append(F.cross_entropy(model(x).flatten(0, 1), y.flatten()).item())
    return sum(losses) / len(losses)


@torch.no_grad()
def greedy(model, tok, prompt, n):
    ids = [tok.bos] + tok.encode(prompt)
    for _ in range(n):
        logits = model(torch.tensor([ids[-model.cfg["n_ctx"]:]]))[0, -1]
        ids.append(int(logits.argmax()))
    return tok.decode(ids[1 + len(tok.encode(prompt)):])


def main():
    started = time.time()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--out", required=True, help="directory for weights.f32 and manifest.json")
    ap.add_argument("--steps", type=int, default=None, help="train a fixed number of steps (reproducible)")
    ap.add_argument("--minutes", type=float, default=None,
                    help="train for this long instead: the schedule follows the clock (shared CPUs vary in speed)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1611)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast for matmuls (AVX512-BF16 CPUs)")
    args = ap.parse_args()
    if (args.steps is None) == (args.minutes is None):
        ap.error("give exactly one of --steps and --minutes")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    with open(args.vocab, encoding="utf-8") as f:
        vocab = json.load(f)
    tok = Tokenizer(vocab)
    cfg = dict(n_vocab=len(vocab["tokens"]), n_ctx=256, n_embd=256, n_layer=4, n_head=4, n_ff=704,
               rms_eps=1e-5, rope_base=10000.0)

    verses = kjv_verses()
    # Every 100th verse is held out for the validation loss.
    train_s, train_starts = build_stream(tok, [v for i, v in enumerate(verses) if i % 100 != 0])
    val_s, val_starts = build_stream(tok, [v for i, v in enumerate(verses) if i % 100 == 0])
    usable = train_starts[train_starts + cfg["n_ctx"] <= len(train_s)]

    model = Llama(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"params {n_params} train tokens {len(train_s)} val tokens {len(val_s)}", flush=True)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(args.seed)

    budget = None if args.minutes is None else args.minutes * 60

    def progress(step, elapsed):
        return step / args.steps if budget is None else elapsed / budget

    def lr_at(step, p):
        # Linear warmup, then cosine decay to a tenth of the peak over the step or time budget.
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

    t0 = time.time()
    ema = None
    step = 0
    while progress(step, time.time() - t0) < 1:
        lr = lr_at(step, progress(step, time.time() - t0))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batches(train_s, usable, tok.bos, cfg["n_ctx"], args.batch, gen)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(x)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if step % 25 == 0:
            el = time.time() - t0
            tps = (step + 1) * args.batch * cfg["n_ctx"] / el
            print(f"step {step:5d} loss {loss.item():.3f} ema {ema:.3f} lr {lr:.2e} "
                  f"{el:6.0f}s {tps:6.0f} tok/s", flush=True)
        step += 1
    train_seconds = time.time() - t0
    steps = step

    model.eval()
    val_loss = evaluate(model, val_s, val_starts, tok.bos, cfg["n_ctx"], 16, 8)
    sample = greedy(model, tok, "In the beginning God", 80)
    print(f"trained {steps} steps in {train_seconds:.0f}s; train loss (ema) {ema:.3f}; val loss {val_loss:.3f}")
    print(f"greedy: In the beginning God{sample}")

    os.makedirs(args.out, exist_ok=True)
    tensors, offset = [], 0
    with open(os.path.join(args.out, "weights.f32"), "wb") as f:
        for name, t in model.gguf_tensors():
            data = t.detach().float().contiguous().numpy().astype("<f4")
            f.write(data.tobytes())
            tensors.append({"name": name, "shape": list(data.shape), "offset": offset})
            offset += data.nbytes
    manifest = {
        "format": "zt4ai-demo-weights-1",
        "config": cfg,
        "parameters": n_params,
        "vocab": vocab["tokens"],
        "tensors": tensors,
        "training": {
            "steps": steps, "minutes_budget": args.minutes, "batch": args.batch, "n_ctx": cfg["n_ctx"], "lr": args.lr, "warmup": args.warmup,
            "seed": args.seed, "threads": args.threads, "bf16": args.bf16,
            "tokens_seen": steps * args.batch * cfg["n_ctx"], "train_tokens": int(len(train_s)),
            "seconds": round(train_seconds, 1), "train_loss_ema": round(ema, 4), "val_loss": round(val_loss, 4),
            "wall_seconds": round(time.time() - started, 1), "torch": torch.__version__,
        },
        "greedy": {"prompt": "In the beginning God", "continuation": sample},
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
