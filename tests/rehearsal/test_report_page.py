"""The report page's looks that carry meaning: the verdict's colour and readable event labels."""

from __future__ import annotations

import re

from expandcontract.rehearsal.html import LABEL_CHAR_PX, LABEL_ROW_PX, label_layout, render_html
from expandcontract.rehearsal.timeline import Timeline
from tests.rehearsal.test_verdict import FAST, _report, _timeline


def _verdict_div(html: str) -> str:
    match = re.search(r'<div class="verdict (\w+)">', html)
    assert match, "no verdict on the page"
    return match.group(1)


def test_inconclusive_is_amber_not_the_red_of_a_failure():
    inconclusive = _report(_timeline({"v1 live": FAST, "expand": FAST}), rps=50.0)
    failed = _report(_timeline({"v1 live": FAST, "expand": FAST[:97] + [1500.0] * 3}))
    safe = _report(_timeline({"v1 live": FAST, "expand": FAST}))

    assert inconclusive.verdict == "inconclusive" and failed.verdict == "not zero-downtime"
    assert _verdict_div(render_html(inconclusive)) == "inconclusive"
    assert _verdict_div(render_html(failed)) == "bad"
    assert _verdict_div(render_html(safe)) == "ok"
    css = render_html(inconclusive)
    amber = re.search(r"\.inconclusive\{background:(#\w+)", css)
    red = re.search(r"\.bad\{background:(#\w+)", css)
    assert amber and red and amber.group(1) != red.group(1)


def _spans(html: str) -> list[tuple[float, float, float]]:
    """(left, right, y) of every marker label drawn on the chart."""
    spans = []
    for x, y, text in re.findall(
        r'<text x="([\d.-]+)" y="([\d.]+)" font-size="9" fill="[^"]+" stroke="#fff"[^>]*>'
        r"([^<]*)<title>",
        html,
    ):
        spans.append((float(x), float(x) + len(text) * LABEL_CHAR_PX, float(y)))
    return spans


def test_clustered_event_labels_do_not_overlap():
    timeline: Timeline = _timeline({"v1 live": FAST, "contract": FAST})
    # Five guard events within half a second, as around a refused-then-applied contract.
    for index, label in enumerate(
        ["contract refused: 4 rows", "operator: resolved 4", "contract applied", "soak elapsed",
         "green marked stable"]
    ):  # fmt: skip
        timeline.events.append((12.0 + index * 0.1, "guard", label))
    html = render_html(_report(timeline))

    spans = _spans(html)
    assert len(spans) == 5, "every label found a row"
    for i, (left, right, y) in enumerate(spans):
        for other_left, other_right, other_y in spans[i + 1 :]:
            same_row = y == other_y
            assert not (same_row and left < other_right and other_left < right), spans
    assert len({y for _, _, y in spans}) == 5  # stacked: one row each


def test_labels_that_fit_nowhere_are_left_to_their_hover_title():
    placed = label_layout([(100.0, 20)] * 8)
    rows = [row for _, row in placed]
    assert rows[:5] == [0, 1, 2, 3, 4] and rows[5:] == [None, None, None]
    # Far apart, they share the first row; near the right edge a label ends at its marker.
    apart = label_layout([(100.0, 10), (400.0, 10), (940.0, 10)])
    assert [row for _, row in apart] == [0, 0, 0]
    assert apart[2][0] + 10 * LABEL_CHAR_PX <= 940.0
    assert LABEL_ROW_PX > 9  # rows are at least a font-size apart
