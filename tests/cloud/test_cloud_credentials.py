"""Without Modal credentials or a route to Modal, `veracity cloud run` stops before any work, in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cloud_helpers import git_repo

from veracity.cloud.credentials import credentials_source, require_credentials, require_network
from veracity.errors import ConfigError

# Exits with main()'s code and says whether anything imported modal (the cloud path) on the way.
_PROBE = (
    "import sys; from veracity.cli import main; code = main(sys.argv[1:]); "
    "print('modal imported' if 'modal' in sys.modules else 'modal not imported'); sys.exit(code)"
)


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}
    return env | {"HOME": str(home)}


def test_missing_credentials_stop_the_modal_backend_with_one_line_and_exit_2(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git_repo(repo, 3)
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "cloud", "run", "c0..c2", "--gpu", "H100", "--config", "asv.conf.json"],
        cwd=repo,
        env=_clean_env(home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("veracity: error: no Modal credentials")
    assert "MODAL_TOKEN_ID and MODAL_TOKEN_SECRET" in done.stderr
    # Nothing started: no Modal client, no output, no machine record, no results folder.
    assert done.stdout == "modal not imported\n"
    assert list(home.iterdir()) == []
    assert not (repo / ".asv").exists()


def test_the_variables_are_enough() -> None:
    env = {"MODAL_TOKEN_ID": "ak-x", "MODAL_TOKEN_SECRET": "as-y", "HOME": "/nonexistent"}
    assert require_credentials(env) == "MODAL_TOKEN_ID and MODAL_TOKEN_SECRET"


def test_one_variable_alone_is_named_as_missing() -> None:
    with pytest.raises(ConfigError, match=r"\(MODAL_TOKEN_SECRET not set"):
        require_credentials({"MODAL_TOKEN_ID": "ak-x", "MODAL_CONFIG_PATH": "/nonexistent/.modal.toml"})


def test_the_active_profile_of_modal_toml_is_enough(tmp_path: Path) -> None:
    config = tmp_path / ".modal.toml"
    config.write_text('[old]\ntoken_id = "ak-1"\ntoken_secret = "as-1"\n\n[work]\nactive = true\ntoken_id = "ak-2"\n')
    assert credentials_source({"MODAL_CONFIG_PATH": str(config)}) is None  # the active one has no secret
    assert credentials_source({"MODAL_CONFIG_PATH": str(config), "MODAL_PROFILE": "old"}) == f"{config} profile 'old'"


def test_an_unreachable_modal_server_is_one_clear_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConfigError, match=rf"cannot reach Modal at 127.0.0.1:{port} .*--backend local"):
        require_network({"MODAL_SERVER_URL": f"http://127.0.0.1:{port}"}, timeout=2)


def test_a_listening_modal_server_passes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        require_network({"MODAL_SERVER_URL": f"http://127.0.0.1:{server.getsockname()[1]}"}, timeout=2)
