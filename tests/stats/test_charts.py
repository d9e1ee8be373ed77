"""The SVG chart helper of the dashboard, without the database."""

from __future__ import annotations

from casemgr.stats.charts import bar_chart, nice_ticks


def test_nice_ticks():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(1) == [0, 1]
    assert nice_ticks(4) == [0, 1, 2, 3, 4]
    assert nice_ticks(26) == [0, 10, 20, 30]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]


def test_bar_chart_escapes_labels():
    svg = str(bar_chart([("<script>x</script>", 3)], title="A & B", chart_id="c", horizontal=True))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "A &amp; B" in svg
    assert svg.startswith("<svg") and 'role="img"' in svg


def test_bar_chart_empty_has_a_message():
    svg = str(bar_chart([("a", 0), ("b", 0)], title="t", chart_id="c", empty_message="Nothing"))
    assert "Nothing" in svg and "<rect" in svg
    svg = str(bar_chart([], title="t", chart_id="c", horizontal=True, empty_message="None here"))
    assert "None here" in svg


def test_bar_chart_draws_one_bar_each():
    svg = str(bar_chart([(str(d), d % 3) for d in range(31)], title="t", chart_id="c"))
    assert svg.count("<rect") == 31
