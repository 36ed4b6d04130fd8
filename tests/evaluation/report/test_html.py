"""HTML pages: self-contained (no external assets), user text escaped, worst frames named."""

from __future__ import annotations

import base64
import re

import pytest

from spacetime.errors import SpacetimeError
from spacetime.evaluation.report.compare import compare_generators
from spacetime.evaluation.report.html import compare_html, eval_html, write_html

_PNG = b"\x89PNG\r\n\x1a\n"


def _external_references(page: str) -> list[str]:
    """src/href values that would fetch something (anything but data: URIs and #anchors)."""
    refs = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]*)['"]""", page)
    return [r for r in refs if not (r.startswith("data:") or r.startswith("#"))]


def test_eval_page_is_self_contained_and_escapes_captions(make_report, tmp_path) -> None:
    evil = 'a red circle <script>alert("x")</script> & co'
    objects = [{"clause": evil, "present": True, "checks": {"shape": True, "size": None}}]
    oracle = {"adherence": 0.5, "objects": objects, "details": {"pillar": None}}
    report = make_report("<b>clip</b>.mp4", caption=evil, oracle=oracle)
    page = eval_html([report])
    assert "<script>" not in page and "<b>clip</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert "&lt;b&gt;clip&lt;/b&gt;.mp4" in page
    # The oracle's per-object findings are a table (nested checks flattened), escaped too.
    assert "<th>clause</th><th>present</th><th>checks</th>" in page
    assert "<th>worst_<wbr>frame</th>" not in page and "<th>teleport_<wbr>rate</th>" not in page
    assert "<th>edge_<wbr>shimmer</th>" in page  # long names may wrap at underscores
    assert "<td>yes</td><td>shape=yes, size=–</td>" in page
    assert "&quot;pillar&quot;: null" in page  # details as escaped JSON
    assert _external_references(page) == []
    assert "<link" not in page and "@import" not in page and "url(" not in page
    images = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert images and all(base64.b64decode(data).startswith(_PNG) for data in images)
    path = write_html(tmp_path / "out" / "report.html", page)
    assert path.read_text(encoding="utf-8") == page


def test_eval_page_names_worst_frame_and_marks_worst_clip(make_report) -> None:
    calm = make_report("calm.mp4", level=0.1, spike_at=2)
    bad = make_report("bad.mp4", level=1.0, spike_at=5)
    bad.strip = _PNG + b"fake strip bytes"
    page = eval_html([calm, bad])
    # Transition 5 -> 6 is the worst, so frame 6 is named as the worst frame of bad.mp4.
    assert "flicker → frame 6" in page
    section = page[page.index("id='video-1'") :]
    assert re.search(r"<td>flicker</td>(<td>[^<]*</td>){3}<td>6</td>", section)
    calm_section = page[page.index("id='video-0'") : page.index("id='video-1'")]
    assert re.search(r"<td>flicker</td>(<td>[^<]*</td>){3}<td>3</td>", calm_section)
    # The summary table flags bad.mp4 (not calm.mp4) as the worst clip for flicker.
    summary = page[: page.index("id='video-0'")]
    assert summary.count("class='worst'") == 7  # every failure metric, not dynamic_degree
    bad_row = summary[summary.index("#video-1") :]
    assert bad_row.count("class='worst'") == 7


def test_compare_page_ranks_and_escapes(make_report) -> None:
    comparison = compare_generators(
        {"<i>gen</i>": [make_report(level=0.2)], "other": [make_report(level=0.4)]},
        paths={"<i>gen</i>": "runs/<i>gen</i>", "other": "runs/other"},
    )
    page = compare_html(comparison)
    assert "<i>gen</i>" not in page and "&lt;i&gt;gen&lt;/i&gt;" in page
    assert _external_references(page) == []
    # Generators are columns, best first; the overall rank row marks the winner.
    head = re.search(r"<table class='ranking'><thead><tr><th>metric</th>(.*?)</tr>", page)
    assert head is not None
    assert head.group(1) == "<th>&lt;i&gt;gen&lt;/i&gt;</th><th>other</th>"
    assert "<tr><td>overall rank</td><td class='best'>1</td><td>2</td></tr>" in page
    assert "<tr><td>flicker</td><td class='best'>0.3 (1)</td><td>0.6 (2)</td></tr>" in page


def test_unwritable_html_path_is_a_spacetime_error(tmp_path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(SpacetimeError, match=r"file/r.html: cannot write the HTML report"):
        write_html(tmp_path / "file" / "r.html", "<html></html>")
