"""The README stays a five-minute read, and every relative link in it and in docs/ resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))

# [text](target) or [text](target "title"); images (![alt](src)) match too, which is wanted.
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = ("http://", "https://", "mailto:")


def relative_links(markdown: str) -> list[str]:
    """Link targets that point into the repository, without their #anchor."""
    targets = []
    for target in LINK.findall(markdown):
        if target.startswith(EXTERNAL):
            continue
        path = target.split("#", 1)[0]
        if path:  # a bare "#anchor" points into the same file
            targets.append(path)
    return targets


def broken_links(markdown_file: Path) -> list[str]:
    text = markdown_file.read_text(encoding="utf-8")
    return [t for t in relative_links(text) if not (markdown_file.parent / t).exists()]


def test_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 160, f"README.md has {len(lines)} lines; move detail to docs/"


def test_readme_has_a_folder_map() -> None:
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)
    wanted = ("benchmarks/", "src/veracity/", "tests/", "docs/")
    assert any(all(folder in block for folder in wanted) for block in blocks), (
        f"README.md needs a fenced folder map naming {', '.join(wanted)}"
    )


def test_docs_exist() -> None:
    assert DOCS, "docs/ holds no Markdown files"


@pytest.mark.parametrize("markdown_file", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(markdown_file: Path) -> None:
    assert broken_links(markdown_file) == []


def test_a_broken_link_is_caught(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("x", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](there.md#a) [web](https://example.com/x) [mail](mailto:a@b.c) [self](#top)\n"
        "[gone](docs/missing.md) [gone too](missing.md#section)\n",
        encoding="utf-8",
    )
    assert broken_links(page) == ["docs/missing.md", "missing.md"]
