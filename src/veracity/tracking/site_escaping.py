"""Keep repository text inert in the published site: a few places in asv's scripts build markup from it.

Git tag names (graph labels), parameter names (panel headings), benchmark display names and
benchmark source (tooltips) are concatenated into HTML by asv's scripts, so a tag such as
`v1<svg/onload=...>` (a valid git ref name) or a parameter name holding a tag becomes an element
of the page. Everywhere else asv shows commit, branch or parameter text through jQuery's
`.text()`. These patches make the published copies of those scripts escape the text first.
"""

from __future__ import annotations

from pathlib import Path

from veracity.fsutil import atomic_write_text

_TEXT = "$('<span>').text({}).html()"

# (script, what asv 0.6 has, what it becomes)
PATCHES: tuple[tuple[str, str, str], ...] = (
    (
        "graphdisplay.js",
        """font-size:smaller;'>" + tag + "</div>\"""",
        """font-size:smaller;'>" + """ + _TEXT.format("tag") + """ + "</div>\"""",
    ),
    (
        "asv_ui.js",
        """'<div class="panel-heading">' + heading + '</div>'""",
        """$('<div class="panel-heading"/>').text(heading)""",
    ),
    (
        "graphdisplay.js",
        """'">' + name + '</li>'""",
        """'">' + """ + _TEXT.format("name") + """ + '</li>'""",
    ),
    (
        "summarygrid.js",
        """'<div class="benchmark-text">' + display_name + '</div>'""",
        """'<div class="benchmark-text">' + """ + _TEXT.format("display_name") + """ + '</div>'""",
    ),
    ("graphdisplay.js", "title: bm.code,", "title: $('<pre/>').text(bm.code)[0].outerHTML,"),
    ("summarygrid.js", "title: bm.code,", "title: $('<pre/>').text(bm.code)[0].outerHTML,"),
)


def escape_site_scripts(html_dir: Path) -> list[str]:
    """Apply every patch to the site in `html_dir`; return those whose pattern asv's scripts no longer have."""
    missing = []
    texts: dict[str, str] = {}
    for script, unsafe, safe in PATCHES:
        path = html_dir / script
        if script not in texts:
            texts[script] = path.read_text(encoding="utf-8") if path.is_file() else ""
        if unsafe not in texts[script]:
            if safe not in texts[script]:
                missing.append(f"{script}: {unsafe}")
            continue
        texts[script] = texts[script].replace(unsafe, safe)
    for script, text in texts.items():
        if text:
            atomic_write_text(html_dir / script, text)
    return missing
