"""Stop `veracity cloud run --backend modal` before any work when Modal cannot be used from here.

Without this, a missing token or a blocked network shows up minutes later, after the bundle is
built and the image resolved, as a traceback from deep inside the Modal client.
"""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from veracity.errors import ConfigError

TOKEN_VARIABLES = ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET")
DEFAULT_SERVER_URL = "https://api.modal.com"
CONNECT_TIMEOUT_S = 5.0


def modal_config_path(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the Modal client reads its profiles (`modal token set` writes there)."""
    return Path(environ.get("MODAL_CONFIG_PATH") or "~/.modal.toml").expanduser()


def credentials_source(environ: Mapping[str, str] = os.environ) -> str | None:
    """Where Modal would take its token from: the two variables, or the active profile of ~/.modal.toml."""
    if all(environ.get(name) for name in TOKEN_VARIABLES):
        return " and ".join(TOKEN_VARIABLES)
    path = modal_config_path(environ)
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    active = [name for name, values in profiles.items() if isinstance(values, dict) and values.get("active") is True]
    name = environ.get("MODAL_PROFILE") or (active[0] if active else "default")
    profile = profiles.get(name)
    if isinstance(profile, dict) and profile.get("token_id") and profile.get("token_secret"):
        return f"{path} profile {name!r}"
    return None


def require_credentials(environ: Mapping[str, str] = os.environ) -> str:
    """The credentials' source, or ConfigError naming the variables to set."""
    source = credentials_source(environ)
    if source is None:
        missing = [name for name in TOKEN_VARIABLES if not environ.get(name)]
        raise ConfigError(
            f"no Modal credentials ({', '.join(missing)} not set, no token in {modal_config_path(environ)}): "
            f"set {' and '.join(TOKEN_VARIABLES)} (`modal token new` creates them), or use --backend local"
        )
    return source


def require_network(environ: Mapping[str, str] = os.environ, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Open (and close) a TCP connection to Modal's API server, or raise ConfigError saying it is unreachable."""
    url = urlsplit(environ.get("MODAL_SERVER_URL") or DEFAULT_SERVER_URL)
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach Modal at {host}:{port} ({exc.strerror or exc}); check the network or proxy, "
            "or use --backend local"
        ) from None
