"""The public messages of casemgr.intake.urls, marked for translation.

urls.py keeps its messages as plain constants (it is pure Python, with no
Flask). They are translated where they are shown, with ``gettext(message)``;
listing them here with ``N_`` puts them in the catalogue that ``pybabel
extract`` builds. tests/test_translations.py checks this list against the
``MSG_`` constants, so a new message cannot be forgotten.
"""


def N_(message: str) -> str:  # noqa: N802 - the name pybabel looks for
    return message


URL_MESSAGES = (
    N_("Please enter a web address."),
    N_("This is not a web address."),
    N_("Only web addresses starting with http:// or https:// can be reported."),
    N_("This address points to a private or local network and cannot be checked."),
    N_("This web address is too long (over 2,048 characters)."),
    N_("The port number in this web address is not valid."),
    N_("This web address contains hidden control characters. Please type it again."),
    N_("A web address cannot contain spaces. Put each address on its own line."),
    N_("This looks like an e-mail address, not a web address."),
    N_("You can send at most %(limit)d web addresses at once."),
)
