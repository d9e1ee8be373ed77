"""The notice letters as PDF: what a letter says (:mod:`.letter`), how its URLs
break into lines (:mod:`.urls`) and its layout on the page (:mod:`.layout`,
:func:`~.layout.render_letter`). Fonts and shaping come from :mod:`casemgr.pdf`.
"""
