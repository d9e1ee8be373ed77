"""The analysts' screens: the queue, the case page, manual entry."""

from flask import Blueprint

from casemgr.cases.labels import label

bp = Blueprint("cases", __name__, url_prefix="/cases")
# Every template names codes in plain words: {{ case.status|label("status") }}.
bp.add_app_template_filter(label, "label")
