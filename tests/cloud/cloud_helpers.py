"""Helpers of the cloud tests: a git identity and small git repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "toy",
    "GIT_COMMITTER_NAME": "toy",
    "GIT_AUTHOR_EMAIL": "toy@example.invalid",
    "GIT_COMMITTER_EMAIL": "toy@example.invalid",
}


def git_repo(root: Path, commits: int) -> list[str]:
    """A git repository with `commits` commits (tagged c0, c1, ...) and a minimal asv.conf.json; their hashes."""
    root.mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", **GIT_IDENTITY}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env).stdout

    git("init", "-q", "-b", "main")
    (root / "asv.conf.json").write_text('{"version": 1, "repo": ".", "environment_type": "virtualenv"}\n')
    hashes = []
    for i in range(commits):
        (root / "f.txt").write_text(str(i))
        git("add", "-A")
        git("commit", "-qm", f"c{i}")
        git("tag", f"c{i}")
        hashes.append(git("rev-parse", "HEAD").strip())
    return hashes


# What nvidia-smi prints on an H100 host: the query the fingerprint asks, then the plain banner.
SMI_H100 = "NVIDIA H100 80GB HBM3, 81559, 550.54.15\n"
SMI_BANNER = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.15              Driver Version: 550.54.15      CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
"""


def fake_nvidia_smi(folder: Path) -> Path:
    """An `nvidia-smi` executable in `folder` that answers like the one of an H100 host (put it first on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        f"  --query-gpu=*) cat <<'EOF'\n{SMI_H100}EOF\n  ;;\n"
        f"  *) cat <<'EOF'\n{SMI_BANNER}EOF\n  ;;\n"
        "esac\n"
    )
    script.chmod(0o755)
    return script
