"""The forms of signing in and of the user's own account."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from casemgr.auth.passwords import MAX_LENGTH, MIN_LENGTH
from casemgr.forms import StaffForm, select_choices
from casemgr.i18n import language_name, languages

POLICY_HINT = _l(
    "At least %(min)d characters; a few unrelated words make a good one. "
    "Common passwords and your e-mail's name part are refused.",
    min=MIN_LENGTH,
)


class LoginForm(StaffForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])


class CodeForm(StaffForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )


class EnrolForm(StaffForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=40)],
        description=_l(
            "Scan the QR code with your authenticator app, then type the 6 digits it shows."
        ),
    )


class PasswordChangeForm(StaffForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=POLICY_HINT,
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("The two do not match.")),
        ],
    )


def language_choices() -> list:
    """The languages of the staff screens, each in its own name, after the
    blank choice: the default language (``User.language`` None)."""
    default = language_name(languages()[0])
    return select_choices(
        ((code, language_name(code)) for code in languages()),
        blank=str(_l("Default language (%(name)s)", name=default)),
    )


class LanguageForm(StaffForm):
    """The language of a member of staff's screens; the service checks the value."""

    language = SelectField(
        _l("Language of the staff screens"),
        validate_choice=False,
        description=_l("Letters and e-mails keep their own language rules."),
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.language.choices = language_choices()
