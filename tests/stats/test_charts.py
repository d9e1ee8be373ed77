"""The SVG chart helper of the dashboard, without the database."""

from __future__ import annotations

from casemgr.stats.charts import bar_chart, nice_ticks, shorten


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


def test_shorten_never_cuts_inside_a_khmer_cluster():
    assert shorten("Beta Cloud", 22) == "Beta Cloud"
    assert shorten("Example Hosting Company Ltd", 10) == "Example H…"
    # "ក្រុមហ៊ុនបង្ហោះ": a cut may not end on a coeng (U+17D2) nor leave a
    # vowel sign without its consonant; it moves back to the start of the cluster
    name = "ក្រុមហ៊ុនបង្ហោះ"
    for limit in range(5, len(name)):
        kept = shorten(name, limit).removesuffix("…")
        assert 0 < len(kept) < limit
        assert not kept.endswith("\u17d2")
        assert name[len(kept)] not in "\u17d2\u17bb\u17ca\u17c4\u17c7"
    assert shorten(name, 3) == "ក្រុ…"  # the first cluster is kept whole
