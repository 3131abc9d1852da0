"""The parts of asv.conf.json that the tracker needs: where results and html live, repo and branches."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from veracity.errors import ResultsError

# `//` comments outside strings, as asv allows in asv.conf.json.
_COMMENT_OR_STRING = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _loads_with_comments(text: str) -> object:
    stripped = _COMMENT_OR_STRING.sub(lambda m: m.group(0) if m.group(0).startswith('"') else "", text)
    return json.loads(_TRAILING_COMMA.sub(r"\1", stripped))


@dataclass(frozen=True)
class AsvConfig:
    """Paths resolved against the directory of asv.conf.json, as asv resolves them."""

    path: Path
    root: Path
    results_dir: Path
    html_dir: Path
    benchmark_dir: Path
    repo: Path
    branches: tuple[str, ...]
    environment_type: str
    project: str

    @property
    def uses_existing_env(self) -> bool:
        """True when asv benchmarks the interpreter it is given and cannot check out other commits."""
        return self.environment_type == "existing"

    @property
    def noise_file(self) -> Path:
        """The committed noise bands, beside the suite."""
        return self.benchmark_dir / "noise.json"

    @property
    def triage_file(self) -> Path:
        return self.benchmark_dir / "triage.toml"

    @property
    def targets_file(self) -> Path:
        return self.benchmark_dir / "targets.toml"

    @classmethod
    def from_asv_conf(cls, conf: Any) -> AsvConfig:
        """The tracker's view of asv's own config object (what asv hands its plugins).

        asv resolves its paths against the current directory (it runs in the directory of its
        config file) and does not keep the config file's path: `path` is asv.conf.json there.
        asv's default branch (None) becomes "", which `ordered_commits` reads as no branch
        (commits ordered by date).
        """
        root = Path.cwd().resolve()
        return cls(
            path=root / "asv.conf.json",
            root=root,
            results_dir=Path(conf.results_dir).resolve(),
            html_dir=Path(conf.html_dir).resolve(),
            benchmark_dir=Path(conf.benchmark_dir).resolve(),
            repo=Path(conf.repo).resolve(),
            branches=tuple(b or "" for b in conf.branches or [None]),
            environment_type=str(conf.environment_type or "virtualenv"),
            project=str(conf.project),
        )

    @classmethod
    def load(cls, path: Path) -> AsvConfig:
        """Read asv.conf.json at `path`, or raise ResultsError saying what to fix."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ResultsError(
                f"{path} not found; run from the repository root or pass --config path/to/asv.conf.json"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ResultsError(f"cannot read {path} ({exc}); check the file and its permissions") from None
        try:
            data = _loads_with_comments(text)
        except ValueError as exc:
            raise ResultsError(f"{path} is not valid JSON ({exc}); fix the file") from None
        if not isinstance(data, dict):
            raise ResultsError(f"{path} must hold a JSON object; fix the file")
        root = path.resolve().parent

        def _dir(key: str, default: str) -> Path:
            value = data.get(key, default)
            if not isinstance(value, str) or not value:
                raise ResultsError(f'{path}: "{key}" must be a non-empty string; fix the file')
            return (root / value).resolve()

        branches = data.get("branches") or ["main"]
        if not isinstance(branches, list) or not all(isinstance(b, str) for b in branches):
            raise ResultsError(f'{path}: "branches" must be a list of branch names; fix the file')
        env_type = data.get("environment_type") or "virtualenv"
        return cls(
            path=path.resolve(),
            root=root,
            results_dir=_dir("results_dir", "results"),
            html_dir=_dir("html_dir", "html"),
            benchmark_dir=_dir("benchmark_dir", "benchmarks"),
            repo=_dir("repo", "."),
            branches=tuple(branches),
            environment_type=str(env_type),
            project=str(data.get("project", "project")),
        )
