"""Configuration classes.

The factory loads one of these, then ``instance/config.py`` if it exists, then
every environment variable prefixed ``CASEMGR_`` (``CASEMGR_SECRET_KEY=...``,
values parsed as JSON where they parse), and finally ``DATABASE_URL``.
"""

import os
from datetime import timedelta

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production


class Config:
    SECRET_KEY = DEFAULT_SECRET_KEY
    # Key for reporter contact details at rest (Fernet, urlsafe base64 of 32 bytes).
    # Empty: derived from SECRET_KEY, acceptable for development only.
    CONTACT_ENCRYPTION_KEY = ""

    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hash method, not a password

    SQLALCHEMY_DATABASE_URI = ""  # empty: SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    HOTLINE_NAME = "Example Hotline"
    HOTLINE_ADDRESS = "1 Example Street, Example City"
    HOTLINE_EMAIL = "hotline@example.org"
    HOTLINE_PHONE = ""
    HOTLINE_WEBSITE = ""
    HOTLINE_COUNTRY = "KH"  # ISO 3166-1 alpha-2; "own country" for routing
    # Routing suggestions (casemgr/directory/routing.py): refer cases hosted in
    # the own country to police before the notice to the host; the police
    # organisation (its id in the directory) to suggest for cases hosted abroad
    # without a partner hotline (None: the police organisation without a country).
    POLICE_FIRST_IN_OWN_COUNTRY = True
    INTERNATIONAL_POLICE_ID = None
    # Tracing help: seconds a DNS look-up of a case's host may take.
    TRACE_DNS_TIMEOUT_SECONDS = 3.0
    CASE_REFERENCE_PREFIX = "CM"

    # Timings (hours unless noted); per hosting country overrides in
    # TAKEDOWN_DUE_HOURS_BY_COUNTRY, e.g. {"US": 48}.
    ASSESSMENT_DUE_HOURS = 24
    TAKEDOWN_DUE_HOURS = 72
    TAKEDOWN_DUE_HOURS_BY_COUNTRY: dict = {}
    REMINDER_INTERVAL_HOURS = 72
    REMINDERS_BEFORE_ESCALATION = 2
    FORWARDED_REMINDER_DAYS = 7
    POLICE_HOLD_REVIEW_DAYS = 30

    QUEUE_PAGE_SIZE = 50
    API_MAX_PER_PAGE = 100
    MAX_URLS_PER_SUBMISSION = 50
    MAX_CONTENT_LENGTH = 1024 * 1024  # whole request body, bytes

    # Languages of the public pages, the default first (docs/translations.md).
    # Staff screens are in the default language for now.
    LANGUAGES = ["en", "km"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    # Reporters' contact details are purged this many days after the newest
    # closing of their submission's cases (flask --app wsgi jobs run retention).
    CONTACT_RETENTION_DAYS = 90

    # The public report form's abuse resistance, without tracking (docs/privacy.md).
    # Counted per client address, hashed with a salt that is never stored.
    PUBLIC_REPORT_RATE_LIMIT = "10 per minute;60 per hour"
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"  # or redis://host:6379/0 (pip install casemgr[redis])
    RATELIMIT_KEY_SALT = ""  # empty: random per process (gunicorn.conf.py shares one)
    RATELIMIT_SWALLOW_ERRORS = True  # a storage outage must not take the form down
    RATELIMIT_HEADERS_ENABLED = False
    # How long the thank-you page can be reloaded from its address, in seconds.
    RECEIPT_MAX_AGE = 3600
    # Number of reverse proxies in front of the app that set X-Forwarded-For
    # (0: none). Needed behind nginx so that rate limits count per client.
    TRUSTED_PROXY_COUNT = 0

    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(days=0)


class DevelopmentConfig(Config):
    DEBUG = True


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "testing-secret"  # noqa: S105
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - fast, for tests only
    CONTACT_ENCRYPTION_KEY = "dGVzdGluZy1rZXktdGVzdGluZy1rZXktdGVzdGluZyE="


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_class(name: str | None = None) -> type[Config]:
    """The class named by ``name``, else by ``CASEMGR_ENV``, else development."""
    name = name or os.environ.get("CASEMGR_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise SystemExit(
            f"CASEMGR_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None
