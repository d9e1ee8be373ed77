"""What every PDF casemgr makes shares: the bundled fonts and their shaping, the
typesetter, the canvas and the letterhead.

Below every feature: nothing here imports a casemgr feature, so the notice
letters (:mod:`casemgr.notices.pdf`) and the statistics report
(:mod:`casemgr.stats.pdf`) both build on it.
"""
