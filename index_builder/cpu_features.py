"""What this CPU computes fast, read from ``/proc/cpuinfo`` without importing torch (which costs 1.2 s at start-up).

The fast encoder picks its document precision from it (index_builder/embedding.py): bf16 where the CPU has native
bf16 matrix instructions (AVX512-BF16 or AMX), int8 elsewhere. ``ONEDNN_MAX_CPU_ISA`` caps what counts, the way it
caps oneDNN (and so torch) itself: ``ONEDNN_MAX_CPU_ISA=AVX2`` makes any machine choose the AVX2 path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
ISA_VARIABLE = "ONEDNN_MAX_CPU_ISA"

REPORTED_FLAGS = ("avx2", "avx512f", "avx_vnni", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")
"""The flags that decide the encoder's path, in the order they are reported."""

ISA_LEVELS: dict[str, frozenset[str]] = {
    "SSE41": frozenset(),
    "AVX": frozenset(),
    "AVX2": frozenset({"avx2"}),
    "AVX2_VNNI": frozenset({"avx2", "avx_vnni"}),
    "AVX2_VNNI_2": frozenset({"avx2", "avx_vnni"}),
    "AVX512_CORE": frozenset({"avx2", "avx512f"}),
    "AVX512_CORE_VNNI": frozenset({"avx2", "avx512f", "avx512_vnni"}),
    "AVX512_CORE_BF16": frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),
    "AVX10_1_512": frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),
    "AVX512_CORE_FP16": frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),
    "AVX10_1_512_AMX": frozenset(REPORTED_FLAGS),
    "AVX512_CORE_AMX": frozenset(REPORTED_FLAGS),
    "AVX10_1_512_AMX_FP16": frozenset(REPORTED_FLAGS),
    "AVX512_CORE_AMX_FP16": frozenset(REPORTED_FLAGS),
}
"""oneDNN's ``ONEDNN_MAX_CPU_ISA`` values and the flags each one still lets count (``ALL`` or ``DEFAULT``: all)."""


@dataclass(frozen=True)
class CpuFeatures:
    """The flags that count on this machine, after any ``ONEDNN_MAX_CPU_ISA`` cap."""

    flags: frozenset[str]
    cap: str | None = None
    """The ``ONEDNN_MAX_CPU_ISA`` value that limited the flags, or None."""
    found: frozenset[str] = frozenset()
    """Every reported flag the CPU has, before the cap."""

    @property
    def native_bf16(self) -> bool:
        """Whether bfloat16 matrix products run natively (AVX512-BF16 or AMX-BF16); emulated bf16 is slow."""
        return bool({"avx512_bf16", "amx_bf16"} & self.flags)

    @property
    def int8_dot_product(self) -> str:
        """The int8 instructions at hand: VNNI (one instruction per 4-way dot product), AVX2, or none."""
        if {"avx512_vnni", "avx_vnni"} & self.flags:
            return "VNNI"
        return "AVX2" if "avx2" in self.flags else "none"

    @property
    def onnxruntime_int8_kernels(self) -> str:
        """The int8 kernels onnxruntime will run: it picks them by its own CPU check, which no cap reaches."""
        if {"avx512_vnni", "avx_vnni"} & self.found:
            return "VNNI"
        return "AVX2" if "avx2" in self.found else "baseline"

    def describe(self) -> str:
        """One line for people, e.g. ``avx2 avx512f avx512_vnni avx512_bf16 (capped at AVX2 by ...)``."""
        found = " ".join(flag for flag in REPORTED_FLAGS if flag in self.flags) or "none of " + "/".join(REPORTED_FLAGS)
        return found + (f" (capped at {self.cap} by {ISA_VARIABLE})" if self.cap else "")


def cpuinfo_flags(text: str) -> frozenset[str]:
    """The flags of the first processor in ``/proc/cpuinfo`` text (x86 ``flags`` line); empty if there is none."""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def capped(flags: frozenset[str], cap: str | None) -> CpuFeatures:
    """``flags`` limited to what the ``ONEDNN_MAX_CPU_ISA`` value ``cap`` allows (unknown values: no cap)."""
    level = (cap or "").strip().upper()
    allowed = ISA_LEVELS.get(level)
    found = frozenset(flag for flag in flags if flag in REPORTED_FLAGS)
    if allowed is None:
        return CpuFeatures(found, None, found)
    return CpuFeatures(found & allowed, level, found)


def detect_cpu(environ: Mapping[str, str] | None = None, cpuinfo: Path = CPUINFO) -> CpuFeatures:
    """This machine's features, honouring ``ONEDNN_MAX_CPU_ISA``; a machine without ``/proc/cpuinfo`` has none."""
    environ = os.environ if environ is None else environ
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    return capped(cpuinfo_flags(text), environ.get(ISA_VARIABLE))
