"""The forms of the staff screens: an account, a partner hotline's account, and
the label of a new API token."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from casemgr.auth.forms import language_choices
from casemgr.auth.passwords import MAX_LENGTH, MIN_LENGTH
from casemgr.auth.tokens import MAX_TOKEN_LABEL_LENGTH
from casemgr.cases.labels import ROLE
from casemgr.domain import STAFF_ROLES
from casemgr.forms import StaffForm, select_choices


class AccountForm(StaffForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(
        _l("Role"), choices=select_choices((role.value, ROLE[role]) for role in STAFF_ROLES)
    )
    active = BooleanField(_l("Active"), default=True)
    language = SelectField(
        _l("Language of the staff screens"),
        validate_choice=False,  # the service checks it, naming the field
        description=_l("They can change it themselves on their account page."),
    )
    password = PasswordField(
        _l("Password"),
        validators=[Optional(), Length(max=MAX_LENGTH)],
        description=_l(
            "At least %(min)d characters; a few unrelated words make a good one. "
            "Common passwords and your e-mail's name part are refused. "
            "Leave empty to keep it.",
            min=MIN_LENGTH,
        ),
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.language.choices = language_choices()


class PartnerAccountForm(StaffForm):
    """A partner hotline's account: API only, so no role, password or language."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    organisation = SelectField(
        _l("Partner hotline"),
        validate_choice=False,  # the service checks it, naming the field
        description=_l("The hotline of the directory whose installation uses this account."),
    )
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, hotlines: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.organisation.choices = [("", _l("Choose…")), *hotlines]


class TokenForm(StaffForm):
    label = StringField(
        _l("Label"),
        validators=[DataRequired(), Length(max=MAX_TOKEN_LABEL_LENGTH)],
        description=_l(
            "Who or what the token is for, e.g. the partner's name and system. "
            "Shown in the token list and the audit log."
        ),
    )
