"""The canvas every PDF is drawn on (casemgr/pdf/canvas.py)."""

from __future__ import annotations

import io

from casemgr.pdf.canvas import ShapingCanvas


def test_text_rise_is_reset_after_a_folded_rise() -> None:
    """reportlab 5.1 folds ``a Ts b Ts`` but keeps ``a`` as the current rise."""
    canvas = ShapingCanvas(io.BytesIO(), invariant=1)
    tx = canvas.beginText(0, 0)
    tx.setRise(-0.78)
    tx._code.append("(x) Tj")
    tx.setRise(0)
    tx.setRise(-8.88)
    assert tx._rise == -8.88
    assert tx._code[-1] == "-8.88 Ts"
