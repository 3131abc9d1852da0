"""Make the published site work without a network: serve asv's third-party scripts from html/vendor/.

asv's index.html loads jQuery, flot, bootstrap, md5 and stupidtable from public CDNs, so on a
machine without internet (CI, an air-gapped lab, this project's own sandboxes) the site shows only
"failed to load 3rd-party scripts". The same files, MIT-licensed, ship in `vendor/` beside this
module (fetched from the npm registry: jquery 3.3.1, flot 0.8.3, flot-orderbars 1.0.0,
blueimp-md5 2.19.0, bootstrap 3.1.1, stupid-table-plugin 1.1.3) and replace the CDN links.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from veracity.fsutil import atomic_write_text

VENDOR_DIR = Path(__file__).with_name("vendor")

# CDN file name in asv's index.html -> our local copy.
LOCAL_COPIES = {
    "jquery-3.3.1.min.js": "jquery.min.js",
    "jquery.flot.min.js": "jquery.flot.js",
    "jquery.flot.time.min.js": "jquery.flot.time.js",
    "jquery.flot.selection.min.js": "jquery.flot.selection.js",
    "jquery.flot.categories.min.js": "jquery.flot.categories.js",
    "jquery.flot.orderBars.js": "jquery.flot.orderBars.js",
    "stupidtable.min.js": "stupidtable.min.js",
    "md5.min.js": "md5.min.js",
    "bootstrap.min.js": "bootstrap.min.js",
    "bootstrap.min.css": "bootstrap.min.css",
}

_CDN_TAG = re.compile(r'(?P<attr>src|href)="https://[^"]*/(?P<file>[^"/]+)"(?P<rest>[^>]*)>')
_CDN_ONLY_ATTRS = re.compile(r'\s+(integrity|crossorigin|referrerpolicy)="[^"]*"')


def localise(html: str) -> str:
    """`html` with every known CDN script or stylesheet pointing at vendor/ instead."""

    def swap(match: re.Match[str]) -> str:
        local = LOCAL_COPIES.get(match.group("file"))
        if local is None:
            return match.group(0)
        rest = _CDN_ONLY_ATTRS.sub("", match.group("rest"))
        return f'{match.group("attr")}="vendor/{local}"{rest}>'

    return _CDN_TAG.sub(swap, html)


def make_offline(html_dir: Path) -> None:
    """Copy the vendored files into html/vendor/ and rewrite the site's pages to use them."""
    target = html_dir / "vendor"
    target.mkdir(parents=True, exist_ok=True)
    for name in sorted(set(LOCAL_COPIES.values())):
        shutil.copyfile(VENDOR_DIR / name, target / name)
    for page in html_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        rewritten = localise(text)
        if rewritten != text:
            atomic_write_text(page, rewritten)
