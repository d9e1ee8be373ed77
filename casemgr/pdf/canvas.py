"""The reportlab canvas every casemgr PDF is drawn on: shaped text stays on its line.

Its own module because both documents need it (shaped Khmer is drawn on the
canvas of a letter and of the statistics report alike) and it patches a
reportlab class rather than holding typesetting.
"""

from __future__ import annotations

from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject


class _TextObject(PDFTextObject):
    """Text object with reportlab 5.1's ``setRise`` corrected.

    Shaped text moves marks up or down with a text rise (``Ts``) per cluster.
    ``PDFTextObject.setRise`` folds ``a Ts b Ts`` into ``b Ts`` but then keeps
    ``a`` as the current rise, so the next cluster at rise ``a`` is not reset
    and a whole run of Khmer after a vowel sign sits below the line.
    """

    def setRise(self, rise: float) -> None:  # noqa: N802 - reportlab's name
        code = f"{fp_str(rise)} Ts"
        if self._code and self._code[-1].endswith(" Ts"):
            self._y += self._rise
            self._code[-1] = code
        else:
            self._code.append(code)
        self._rise = rise
        self._y -= rise


class ShapingCanvas(Canvas):
    """A Canvas whose text objects keep shaped runs on their line (see :class:`_TextObject`).

    Pass it as ``canvasmaker`` to a reportlab document template.
    """

    def beginText(self, x: float = 0, y: float = 0, direction: Any = None) -> PDFTextObject:  # noqa: N802
        return _TextObject(self, x, y, direction=direction)
