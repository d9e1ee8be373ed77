"""The supervisors' decisions on unmatched mail (CSRF comes with the form)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length

from casemgr.forms import StaffForm


class AttachForm(StaffForm):
    case = StringField(_l("Case reference or id"), validators=[Length(max=40)])


class DiscardForm(StaffForm):
    pass
