"""The Modal app behind `veracity cloud run --backend modal`: one GPU container per shard.

Import this module only on the cloud path: it imports modal, and defining the image reads the
project's pins. Deploy-free: `run_shards_in_cloud` starts the app for the length of one run.
"""

# No `from __future__ import annotations`: modal reads the parameters' types at runtime.
import os
import shlex
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import modal

from veracity.cloud.requirements import project_requirements
from veracity.cloud.shard import ShardOutput, ShardRequest, run_shard
from veracity.errors import ConfigError

APP_NAME = "veracity-bench"
VOLUME_NAME = "veracity-bench-data"
VOLUME_ROOT = "/vol"
IMAGE_CONSTRAINTS = "/opt/veracity/constraints.txt"

MINUTES = 60
SHARD_TIMEOUT = 120 * MINUTES  # asv builds a CUDA torch environment, then measures every commit of the shard
WARMUP_TIMEOUT = 20 * MINUTES  # first container of a volume trains the default NLI model
SCALEDOWN_WINDOW = 2 * MINUTES

_PINS = project_requirements()

image = (
    modal.Image.debian_slim(python_version="3.11")
    .apt_install("git")
    .pip_install(*_PINS)
    # asv's environments install with these pins too (the local file names CPU-only torch).
    .run_commands(
        f"mkdir -p {Path(IMAGE_CONSTRAINTS).parent} && printf '%s\\n' {shlex.join(_PINS)} > {IMAGE_CONSTRAINTS}"
    )
    .env({"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TOKENIZERS_PARALLELISM": "false"})
    # With its data files (datasets for the NLI warm-up, the site's vendored scripts), not only the .py files.
    .add_local_python_source("veracity", ignore=["**/__pycache__"])
)
volume = modal.Volume.from_name(VOLUME_NAME, create_if_missing=True)
app = modal.App(APP_NAME, image=image)


@app.cls(
    volumes={VOLUME_ROOT: volume},
    timeout=SHARD_TIMEOUT,
    startup_timeout=WARMUP_TIMEOUT,
    scaledown_window=SCALEDOWN_WINDOW,
)
class BenchRunner:
    """One container: warm once (models on the volume), then measure shards of commits."""

    volume_root: str = modal.parameter(default=VOLUME_ROOT)
    warm_models: bool = modal.parameter(default=True)

    @modal.enter()
    def warm_up(self) -> None:
        """Point every cache at the volume and build the default NLI model there (once per volume)."""
        root = Path(self.volume_root)
        self.env = {
            "VERACITY_CACHE_DIR": str(root / "cache"),
            "PIP_CACHE_DIR": str(root / "pip-cache"),
        }
        if Path(IMAGE_CONSTRAINTS).is_file():
            self.env["PIP_CONSTRAINT"] = IMAGE_CONSTRAINTS
        os.environ.update(self.env)
        if self.warm_models:
            from veracity.pipeline.nli_training import build_default_nli

            report = build_default_nli(root / "cache", show_progress=False)
            if report.built:
                print(f"veracity: built the default NLI model in {report.seconds:.0f} s on the volume", flush=True)
            self._commit_volume()

    @modal.method()
    def run_shard(self, bundle: bytes, request: dict) -> dict:
        """Measure one shard; return ShardOutput.to_json() and keep a copy of its files on the volume."""
        parsed = ShardRequest.from_json(request)
        with tempfile.TemporaryDirectory(prefix="veracity-shard-") as tmp:
            bundle_path = Path(tmp) / "repo.bundle"
            bundle_path.write_bytes(bundle)
            output = run_shard(bundle_path, Path(tmp) / "work", parsed, env=self.env)
        data = output.to_json()
        run_id = time.strftime("%Y%m%dT%H%M%S")
        ShardOutput.write_json(data, Path(self.volume_root) / "runs" / run_id / f"shard-{parsed.index}")
        self._commit_volume()
        return data

    def _commit_volume(self) -> None:
        if not modal.is_local():  # `.local()` runs have no volume to commit
            volume.commit()


def run_shards_in_cloud(gpu: str, bundle: bytes, requests: Sequence[dict]) -> list[dict | BaseException]:
    """The only call into Modal's cloud: start the app, one container per shard on `gpu`, outputs in order.

    A failed shard comes back as its exception, so the others' results are still merged.
    """
    try:
        with modal.enable_output(), app.run():
            runner = BenchRunner.with_options(gpu=gpu)()
            calls = [(bundle, request) for request in requests]
            return list(runner.run_shard.starmap(calls, order_outputs=True, return_exceptions=True))
    except (modal.exception.AuthError, modal.exception.ConnectionError) as exc:
        raise ConfigError(f"Modal refused the run ({exc}); check MODAL_TOKEN_ID and MODAL_TOKEN_SECRET") from None
