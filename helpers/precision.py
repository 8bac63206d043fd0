"""Pick the fastest numeric precision that keeps the recipes' accuracy.

On a CPU with native bfloat16 instructions (AVX-512 BF16 or AMX), Keras's
``mixed_bfloat16`` policy computes the convolutions and dense layers in
bfloat16 while keeping the weights, and the softmax output, in float32: the
models train about twice as fast and reach the same accuracy. Elsewhere
bfloat16 is emulated and slower, so the series stays in float32.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from helpers import settings

BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


class PrecisionChoice(NamedTuple):
    policy: str  # a Keras dtype policy name: "mixed_bfloat16" or "float32"
    reason: str


def cpu_bfloat16_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> list[str]:
    """The CPU flags that give native bfloat16 arithmetic (empty off Linux)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return []
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return [flag for flag in BFLOAT16_CPU_FLAGS if flag in flags]


def choose_precision(cpuinfo: str | Path = "/proc/cpuinfo") -> PrecisionChoice:
    """Resolve MNIST_PRECISION (auto, mixed_bfloat16 or float32) to a Keras policy."""
    requested = settings.requested_precision()
    if requested != "auto":
        return PrecisionChoice(requested, f"forced by MNIST_PRECISION={requested}")
    flags = cpu_bfloat16_flags(cpuinfo)
    if flags:
        return PrecisionChoice(
            "mixed_bfloat16",
            f"this CPU computes bfloat16 natively ({', '.join(flags)}); "
            "weights and the softmax output stay float32",
        )
    return PrecisionChoice("float32", "this CPU has no native bfloat16 instructions")
