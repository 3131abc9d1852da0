"""This CPU's model name and feature flags, read from /proc/cpuinfo in one place for every layer.

The pipeline picks its fast path from the flags; the tracker names the asv machine after the model
and the ISA level. Both read them here, so they can never disagree about the machine they run on.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")


def parse_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor in a /proc/cpuinfo text (`flags` on x86, `Features` on ARM)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def parse_model(cpuinfo: str) -> str | None:
    """The `model name` of the first processor in a /proc/cpuinfo text, if it gives one."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return None


@functools.cache
def _text() -> str:
    try:
        return CPUINFO.read_text(errors="replace")
    except OSError:
        return ""


def cpu_flags() -> frozenset[str]:
    """This machine's CPU flags; empty where /proc/cpuinfo cannot be read."""
    return parse_flags(_text())


def cpu_model() -> str:
    """This CPU's model name, else what the platform module knows of it."""
    return parse_model(_text()) or platform.processor() or platform.machine() or "unknown CPU"
