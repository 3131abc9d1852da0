"""The published site loads its third-party scripts from html/vendor/, so it renders without a network."""

from __future__ import annotations

from pathlib import Path

from veracity.tracking.offline_site import LOCAL_COPIES, VENDOR_DIR, localise, make_offline

ASV_HEAD = (
    '<script src="https://code.jquery.com/jquery-3.3.1.min.js" integrity="sha256-x" '
    'crossorigin="anonymous" onerror="js_load_failure()"></script>\n'
    '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css" '
    'integrity="sha256-y" crossorigin="anonymous">\n'
    '<script src="https://example.invalid/unknown.js"></script>\n'
)


def test_known_cdn_files_point_at_vendor_without_integrity_attributes() -> None:
    html = localise(ASV_HEAD)
    assert 'src="vendor/jquery.min.js" onerror="js_load_failure()"' in html
    assert 'href="vendor/bootstrap.min.css"' in html
    assert "integrity" not in html.split("unknown.js")[0]


def test_unknown_cdn_files_are_left_alone() -> None:
    assert 'src="https://example.invalid/unknown.js"' in localise(ASV_HEAD)


def test_every_local_copy_ships_with_the_package() -> None:
    assert all((VENDOR_DIR / name).is_file() for name in LOCAL_COPIES.values())


def test_make_offline_copies_files_and_rewrites_pages(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(ASV_HEAD)
    make_offline(tmp_path)
    assert "vendor/jquery.min.js" in (tmp_path / "index.html").read_text()
    assert (tmp_path / "vendor" / "jquery.min.js").stat().st_size > 50_000
