"""The packages the Modal image installs: the project's pins, with the CUDA build of torch."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

SOURCE_CONSTRAINTS = Path(__file__).resolve().parents[3] / "constraints.txt"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)==([^\s;+]+)(\+[A-Za-z0-9.]+)?\s*(;.*)?$")


def container_requirements(constraints_text: str) -> list[str]:
    """`name==version` pins from a pip constraints file, for a Linux GPU image.

    The local pins name CPU-only builds (`torch==2.13.0+cpu`, from a local wheel): in the image the
    same version without the local tag is PyPI's CUDA build. The project itself is left out: the
    image carries the orchestration code, and asv builds each measured commit on its own.
    """
    pins = []
    for raw in constraints_text.splitlines():
        line = raw.split("#", 1)[0].strip()
        found = _PIN.match(line)
        if not found or found.group(1).lower() == "veracity":
            continue
        marker = f" {found.group(4)}" if found.group(4) else ""
        pins.append(f"{found.group(1)}=={found.group(2)}{marker}")
    return pins


def project_requirements(constraints: Path = SOURCE_CONSTRAINTS) -> list[str]:
    """The pins of a source checkout (constraints.txt), else those in the installed package's metadata."""
    if constraints.is_file():
        return container_requirements(constraints.read_text(encoding="utf-8"))
    declared = importlib.metadata.requires("veracity") or []
    return container_requirements("\n".join(r.split(";", 1)[0] for r in declared))
