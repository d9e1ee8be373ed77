"""Languages: which one a page is shown in, and links that keep it.

The public pages follow the browser's preference (Accept-Language) unless the
visitor chose a language with the switch, which puts ``?lang=km`` in the
address. The choice travels in the URL, never in a cookie. Staff screens are
in the language the signed-in member of staff chose on their account page
(``User.language``), else in the default language; the API is always in the
default language. How to add a language: docs/translations.md.
"""

from __future__ import annotations

from collections.abc import Callable
from gettext import NullTranslations
from typing import Any

from babel import Locale
from flask import Flask, current_app, has_request_context, request, url_for
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from flask_login import current_user

from casemgr.privacy import ANONYMOUS_BLUEPRINTS

LANG_PARAM = "lang"


def is_public_request() -> bool:
    """The public pages (the report form, providers' response pages), and anything
    that matched no route (a 404 or 405)."""
    return request.blueprint in ANONYMOUS_BLUEPRINTS or request.endpoint in (
        None,
        "static",
    )


def languages() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def chosen_language() -> str | None:
    """The language picked with the switch (``?lang=``), if it is one we have."""
    value = request.args.get(LANG_PARAM)
    return value if value in languages() else None


def select_locale() -> str:
    """Flask-Babel's locale selector."""
    default = languages()[0]
    if not has_request_context():
        return default
    if is_public_request():
        return chosen_language() or request.accept_languages.best_match(languages()) or default
    return staff_language() or default


def staff_language() -> str | None:
    """The language the signed-in member of staff chose, if it is one we have.

    Never on the API (a partner's program reads the default language, whoever's
    token it sends), and never for anyone not signed in (the sign-in pages).
    """
    if request.blueprint == "api" or request.path.startswith("/api/"):
        return None
    if not current_user or not current_user.is_authenticated:
        return None
    chosen = getattr(current_user, "language", None)
    return chosen if chosen in languages() else None


def public_url(endpoint: str, **values) -> str:
    """``url_for`` that keeps a language chosen with the switch."""
    chosen = chosen_language()
    if chosen and LANG_PARAM not in values:
        values[LANG_PARAM] = chosen
    return url_for(endpoint, **values)


def switch_url(language: str) -> str:
    """This page (same route, same query) in ``language``."""
    args = request.args.to_dict()
    args[LANG_PARAM] = language
    endpoint = request.endpoint or "public.home"
    view_args = request.view_args or {}
    if request.method != "GET" or endpoint == "static":
        # A form that came back with errors: switch to a fresh copy of it.
        args = {LANG_PARAM: language}
    return url_for(endpoint, **view_args, **args)


def language_name(code: str) -> str:
    """The language's own name for itself: English, ខ្មែរ."""
    try:
        name = Locale.parse(code).get_display_name(code)
    except (ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:] if name else code


def selected_language() -> str | None:
    """The code of the language this request is served in, if it is one of ours.

    Only the selected locale ("km"), never the browser's Accept-Language
    header: that is what a public report records (docs/privacy.md).
    """
    code = str(get_locale() or "")
    return code if code in languages() else None


def current_language() -> str:
    """The code of the language this request is served in ("en" outside a request)."""
    return str(get_locale() or "en")


def page_language() -> str:
    return str(get_locale() or languages()[0]).replace("_", "-")


def _memo() -> dict[str, Any] | None:
    """This context's translations and looked-up strings, for the locale in force.

    Flask-Babel finds its context, the locale and the translations again on
    every call, through Flask's context proxies (about 15 µs a string): a
    queue page of 50 cases with some 400 strings and labels spent a fifth of
    its CPU there. This memo lives on Flask-Babel's own per-context namespace
    beside the locale object it was made for, so ``force_locale`` (a letter or
    a mail in another language) and ``refresh`` get a fresh one. Should a later
    Flask-Babel keep its locale elsewhere, this finds none and every string
    goes through Flask-Babel as before (slower, never wrong).
    """
    app_context = _cv_app.get(None)
    if app_context is None:
        return None
    babel_space = app_context.g.__dict__.get("_flask_babel")
    locale = getattr(babel_space, "babel_locale", None)
    if locale is None:
        get_locale()  # Flask-Babel picks the locale the first time it is asked
        babel_space = app_context.g.__dict__.get("_flask_babel")
        locale = getattr(babel_space, "babel_locale", None)
        if locale is None:
            return None
    memo = getattr(babel_space, "casemgr_memo", None)
    if memo is None or memo["locale"] is not locale:
        memo = {"locale": locale, "translations": get_translations(), "strings": {}}
        babel_space.casemgr_memo = memo
    return memo


def translations() -> NullTranslations:
    """Flask-Babel's translations for the language in force, found cheaply."""
    memo = _memo()
    return memo["translations"] if memo is not None else get_translations()


def remembered(key: object, make: Callable[[], str]) -> str:
    """``make()`` in the language in force, computed once per request (and language)."""
    memo = _memo()
    if memo is None:
        return make()
    strings = memo["strings"]
    try:
        return strings[key]
    except KeyError:
        strings[key] = value = make()
        return value


def init_app(app: Flask) -> None:
    from casemgr.extensions import babel

    babel.init_app(app, locale_selector=select_locale)
    # The same callables Flask-Babel installs, over the memoised translations.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )

    @app.context_processor
    def language_helpers():
        return {
            "page_language": page_language() if has_request_context() else "en",
            "public_page": has_request_context() and is_public_request(),
            "public_url": public_url,
            "switch_url": switch_url,
            "language_name": language_name,
            "available_languages": languages(),
        }
