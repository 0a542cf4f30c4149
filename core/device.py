"""Which device models run on: CUDA when present, else the CPU; a flag or SCOREHOST_DEVICE overrides."""

from __future__ import annotations

import os

from .errors import ScorehostError


def choose_device(override: str | None = None) -> str:
    wanted = (override or os.environ.get("SCOREHOST_DEVICE") or "auto").strip().lower()
    if wanted == "cpu":
        return "cpu"
    try:
        import torch
    except ImportError:  # models that need torch will say so; the rest run on the CPU
        if wanted == "auto":
            return "cpu"
        raise ScorehostError(f"device {wanted!r} needs torch, which is not installed") from None
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ScorehostError(f"device {wanted!r} asked for, but CUDA is not available here")
        return wanted
    raise ScorehostError(f"unknown device {wanted!r}; use auto, cpu, cuda or cuda:N")
