"""The Modal image installs the project's pins, with PyPI's CUDA torch in place of the local CPU build."""

from __future__ import annotations

from veracity.cloud.requirements import container_requirements, project_requirements


def test_pins_keep_versions_drop_local_cpu_tags_comments_and_the_project() -> None:
    text = (
        "# pip freeze of make install\n"
        "asv==0.6.6\n"
        "torch==2.13.0+cpu\n"
        "psycopg[binary]==3.3.9  # binary wheels\n"
        "-e file:///work/main\n"
        "veracity==0.1.0\n"
        "\n"
    )
    assert container_requirements(text) == ["asv==0.6.6", "torch==2.13.0", "psycopg[binary]==3.3.9"]


def test_the_projects_pins_include_asv_and_cuda_torch() -> None:
    pins = project_requirements()
    assert "asv==0.6.6" in pins
    assert any(p.startswith("torch==") and "+" not in p for p in pins)
