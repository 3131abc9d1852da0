"""What this CPU can do fast (its flags, from veracity.cpuinfo), and which ONNX precision that calls for.

Measured on the two CPU kinds these machines have (1 thread, MiniLM): on an AVX-512 VNNI machine
ONNX Runtime int8 ran 3.2x fp32; on an AVX2-only machine bf16 autocast was 7x *slower* than fp32.
So the fast path is int8 where the CPU has 8-bit dot-product instructions, int8 with reduced-range
weights where it has only AVX2 (its u8 x s8 multiply-add saturates on full-range 8-bit weights),
and ONNX fp32 elsewhere. The choice is a pure function of the flag set so tests can pass any CPU.
"""

from __future__ import annotations

from dataclasses import dataclass

# x86 flags (as Linux spells them) with 8-bit integer dot products: AVX-512 VNNI, AVX-VNNI, AMX.
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})
# Flags worth recording beside a figure: they decide which kernels ran.
REPORTED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_int8", "amx_bf16")

FP32 = "fp32"
INT8 = "int8"
INT8_REDUCED = "int8-reduced"
PRECISIONS = (FP32, INT8, INT8_REDUCED)
"""ONNX model precisions: fp32, int8 (u8 activations x s8 per-channel weights), int8 with 7-bit weights."""


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision picked for a CPU and why, in words for reports."""

    precision: str
    reason: str


def reported_flags(flags: frozenset[str]) -> list[str]:
    """The flags among `REPORTED_FLAGS` that `flags` has, in a fixed order."""
    return [flag for flag in REPORTED_FLAGS if flag in flags]


def int8_precision(flags: frozenset[str]) -> PrecisionChoice:
    """The int8 variant that is exact enough on this CPU: full-range with VNNI/AMX, reduced-range otherwise."""
    vnni = sorted(VNNI_FLAGS & flags)
    if vnni:
        return PrecisionChoice(INT8, f"CPU has {', '.join(vnni)}: int8 dot products in one instruction")
    return PrecisionChoice(
        INT8_REDUCED, "CPU has no VNNI/AMX: int8 with 7-bit weights, as the AVX2 u8 x s8 multiply-add saturates"
    )


def fast_precision(flags: frozenset[str]) -> PrecisionChoice:
    """The precision the `fast` backend tries first on a CPU with these flags (before the quality gate)."""
    if VNNI_FLAGS & flags or "avx2" in flags:
        return int8_precision(flags)
    return PrecisionChoice(FP32, "CPU has neither VNNI/AMX nor AVX2: int8 kernels would not pay; ONNX fp32")
