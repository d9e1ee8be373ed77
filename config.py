"""Configuration classes.

The factory loads one of these, then ``instance/config.py`` if it exists, then
every environment variable prefixed ``CASEMGR_`` (``CASEMGR_SECRET_KEY=...``,
values parsed as JSON where they parse), and finally ``DATABASE_URL``.
"""

import os
from datetime import timedelta

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production


class Config:
    ENV_NAME = "base"
    SECRET_KEY = DEFAULT_SECRET_KEY
    # Key for reporter contact details at rest (Fernet, urlsafe base64 of 32 bytes;
    # flask --app wsgi keys contact prints one); it also encrypts second-factor
    # secrets, reporters' addresses in the outbox and our API tokens at partners.
    # Empty: derived from SECRET_KEY, acceptable for development only.
    # CONTACT_ENCRYPTION_PREVIOUS_KEYS: the keys it replaced, newest first; they
    # only decrypt, until flask --app wsgi keys rotate-contact has moved every
    # stored value to the new key (docs/deployment.md). In the environment, a
    # JSON list or keys separated by commas. A bad key stops the app at start.
    CONTACT_ENCRYPTION_KEY = ""
    CONTACT_ENCRYPTION_PREVIOUS_KEYS: list = []

    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a hash method, not a password

    SQLALCHEMY_DATABASE_URI = ""  # empty: SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    HOTLINE_NAME = "Example Hotline"
    HOTLINE_ADDRESS = "1 Example Street, Example City"
    HOTLINE_EMAIL = "hotline@example.org"
    # HOTLINE_NAME, HOTLINE_EMAIL, HOTLINE_PHONE and HOTLINE_WEBSITE are also shown
    # at the foot of every public page (an empty one is left out).
    HOTLINE_PHONE = ""
    HOTLINE_WEBSITE = ""
    # The "in an emergency" line of the public pages, per language code, e.g.
    # {"en": "In an emergency, call the police on 117.", "km": "..."}; a language
    # without one gets the default language's; {} or "": no such line.
    HOTLINE_EMERGENCY: dict = {}
    HOTLINE_COUNTRY = "KH"  # ISO 3166-1 alpha-2; "own country" for routing
    # Routing suggestions (casemgr/directory/routing.py): refer cases hosted in
    # the own country to police before the notice to the host; the police
    # organisation (its id in the directory) to suggest for cases hosted abroad
    # without a partner hotline (None: the police organisation without a country).
    POLICE_FIRST_IN_OWN_COUNTRY = True
    INTERNATIONAL_POLICE_ID = None
    # Tracing help: seconds a DNS look-up of a case's host may take.
    TRACE_DNS_TIMEOUT_SECONDS = 3.0
    # Letterhead logo: a PNG or JPEG file name in instance/ (optional).
    HOTLINE_LOGO = ""
    # Where escalations go when no police contact is set on the case; empty:
    # the letter is flagged for manual delivery (supervisors also get an alert).
    HOTLINE_SUPERVISORS_EMAIL = ""
    CASE_REFERENCE_PREFIX = "CM"
    # The hotline's time zone, an IANA name ("Asia/Phnom_Penh"). Staff pages,
    # letters, CSVs for people and date inputs use it, naming the zone; the
    # database and the API stay in UTC. A name that is not a zone stops the app.
    HOTLINE_TIMEZONE = "UTC"

    # Timings (hours unless noted); per hosting country overrides in
    # TAKEDOWN_DUE_HOURS_BY_COUNTRY, e.g. {"US": 48}.
    ASSESSMENT_DUE_HOURS = 24
    TAKEDOWN_DUE_HOURS = 72
    TAKEDOWN_DUE_HOURS_BY_COUNTRY: dict = {}
    REMINDER_INTERVAL_HOURS = 72
    REMINDERS_BEFORE_ESCALATION = 2
    FORWARDED_REMINDER_DAYS = 7
    POLICE_HOLD_REVIEW_DAYS = 30
    # An analyst verifies a removal the provider or the removal check reported within this.
    REMOVAL_VERIFY_HOURS = 24

    # Letters. Wording per language and the classification basis printed per
    # URL, merged over the English defaults in casemgr/notices/wording.py, e.g.
    # NOTICE_WORDING = {"km": {"legal_basis": "...", "request": "..."}}
    # CLASSIFICATION_BASIS = {"km": {"illegal_baseline": "..."}}
    NOTICE_WORDING: dict = {}
    CLASSIFICATION_BASIS: dict = {}
    # The notice run also writes referral letters to partner hotlines and police.
    NOTICE_REFERRALS = True
    # A merged PDF export holds at most this many letters (a zip has no limit).
    NOTICE_EXPORT_MAX_LETTERS = 2000

    # Closing the loop (docs/closing-the-loop.md). The address of this
    # installation as providers reach it, for the links printed in letters and
    # e-mails made by the scheduler (no request to take it from), e.g.
    # "https://hotline.example.org". Empty: letters carry no response link.
    PUBLIC_BASE_URL = ""
    # A letter's response link works this many days after the letter was made.
    NOTICE_RESPONSE_DAYS = 90
    # Answers on the response pages, per client address (hashed, never stored).
    NOTICE_RESPONSE_RATE_LIMIT = "30 per minute;300 per hour"
    # Provider replies read from an IMAP mailbox by the "mail" job, e.g.
    # "imaps://user:password@mail.example.org/INBOX". Empty: the job does nothing.
    IMAP_URL = ""
    IMAP_TIMEOUT = 30  # seconds for each exchange with the server
    # PEM file of the CAs to trust for the IMAP server's certificate; empty: the system's.
    IMAP_CA_FILE = ""
    # Messages fetched from the server at a time, and at most per run of the job.
    IMAP_BATCH_SIZE = 20
    IMAP_MAX_PER_RUN = 500
    # Characters of a reply's text kept (plain text, or HTML made text); the rest is cut.
    INBOUND_TEXT_LIMIT = 64 * 1024
    # The removal check: HEAD requests to the URLs of cases waiting for removal.
    # Off by default: read docs/removal-check.md and clear it with your police first.
    URL_CHECKS_ENABLED = False
    # A case is checked again this many hours after its last check.
    URL_CHECK_INTERVAL_HOURS = 24
    # Seconds each request may take, look-up, connection and answer together.
    URL_CHECK_TIMEOUT = 10
    # Redirects followed at most (each one another HEAD); more, or a loop, is an outcome.
    URL_CHECK_MAX_REDIRECTS = 3
    # Checks of the URLs of one host in one run, at most; the rest wait for the next run.
    URL_CHECK_PER_HOST = 5
    # Results recorded and committed together.
    URL_CHECK_BATCH = 1000
    # Checks in one run, at most (the scheduler runs one job at a time: a long
    # run delays the others).
    URL_CHECK_MAX_PER_RUN = 5000
    # Hosts checked at once (one request at a time per host).
    URL_CHECK_WORKERS = 8
    # A removal is reported for an analyst to verify after this many checks in
    # a row found the URL gone (404 or 410) or its host no longer in DNS.
    URL_CHECK_CONFIRMATIONS = 2
    # Checks of hosts that resolve to loopback, private, link-local or reserved
    # addresses are refused unless this is True (for tests and benchmarks only).
    URL_CHECK_ALLOW_PRIVATE = False

    # The scheduler process (flask --app wsgi scheduler): job -> interval.
    # monthly_report stores last month's statistics PDF if it is not stored yet:
    # a run finds it stored and does nothing, so every few hours is plenty.
    SCHEDULE: dict = {
        "notices": {"minutes": 15},
        "reminders": {"minutes": 30},
        "outbox": {"minutes": 1},
        "notifications": {"minutes": 5},
        "mail": {"minutes": 5},
        "monthly_report": {"hours": 6},
        # The privacy rule: reporters' contact details go CONTACT_RETENTION_DAYS
        # after their cases closed, without anyone having to remember a cron job.
        "retention": {"hours": 6},
        # Runs only when URL_CHECKS_ENABLED is True.
        "url_checks": {"hours": 6},
        # Cases forwarded to partner hotlines over their API: deliver, then poll.
        "partners": {"minutes": 15},
        # The audit log's head, signed, sent out of the database's reach (docs/audit.md).
        "audit_checkpoint": {"days": 1},
        # Runs only when BACKUP_DIR is set; makes a backup when the newest is
        # BACKUP_INTERVAL_HOURS old, so a restarted scheduler does not make another.
        "backup": {"hours": 1},
    }
    # Each run of a job is recorded (the System page, /healthz, jobs status) and
    # kept this many days (a job's last success is kept whatever its age).
    JOB_RUN_RETENTION_DAYS = 90
    # Staff pages ask at most this often, per process, whether a job is late
    # (the supervisors' banner); the System page and /healthz always ask.
    JOB_STATUS_CACHE_SECONDS = 30

    # Scheduled backups (docs/deployment.md, Backups). Off while BACKUP_DIR is empty;
    # set it to a directory on another disk, ideally mounted from off the machine.
    # The job writes BACKUP_DIR/casemgr-backup-<UTC time> every BACKUP_INTERVAL_HOURS
    # and deletes its own oldest beyond BACKUP_KEEP (never a backup it did not make).
    BACKUP_DIR = ""
    BACKUP_KEEP = 7
    BACKUP_INTERVAL_HOURS = 24
    # Directory of pg_dump and pg_restore (of the server's major version or newer);
    # empty: found on PATH. E.g. "/usr/lib/postgresql/16/bin".
    BACKUP_PG_BIN = ""

    # Partner hotlines running casemgr (docs/partners.md): seconds each request
    # to a partner may take; delivery attempts before giving up (then a
    # supervisors' alert), the first retry after PARTNER_RETRY_BASE_SECONDS,
    # doubling up to PARTNER_RETRY_MAX_SECONDS; partner cases asked about per
    # run at most; the queue's "no news" filter, in days.
    PARTNER_TIMEOUT = 20
    PARTNER_MAX_ATTEMPTS = 8
    PARTNER_RETRY_BASE_SECONDS = 300
    PARTNER_RETRY_MAX_SECONDS = 6 * 3600
    PARTNER_POLL_LIMIT = 500
    # A forwarded case is polled again this many minutes after its last poll.
    PARTNER_POLL_INTERVAL_MINUTES = 60
    PARTNER_NO_NEWS_DAYS = 7

    # The audit log (docs/audit.md). Entries and checkpoints are HMAC-SHA256 under
    # AUDIT_KEY (at least 32 characters; flask --app wsgi keys audit prints one),
    # or under the first line of the file AUDIT_KEY_FILE. Never in the database;
    # production refuses to start without one; development derives one from
    # SECRET_KEY. AUDIT_PREVIOUS_KEYS: the keys it replaced (newest first, for
    # verifying what was made under them; a key file's further lines count too).
    AUDIT_KEY = ""
    AUDIT_KEY_FILE = ""
    AUDIT_PREVIOUS_KEYS: list = []
    # Names this installation in every checkpoint; empty: HOTLINE_NAME as a slug.
    # Set it once and keep it (a renamed hotline would otherwise change it).
    AUDIT_INSTALLATION_ID = ""
    # Where the audit_checkpoint job sends each checkpoint (empty: not sent there):
    # an address the database's administrators cannot read, and a file appended
    # to on another disk or host than the database (never its directory).
    AUDIT_CHECKPOINT_EMAIL = ""
    AUDIT_CHECKPOINT_FILE = ""

    # E-mail (docs/email.md). SMTP_HOST empty: nothing is sent, messages wait queued.
    SMTP_HOST = ""
    SMTP_PORT = 0  # 0: 25 for "none", 587 for "starttls", 465 for "tls"
    SMTP_SECURITY = "starttls"  # none | starttls | tls (implicit TLS)
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""  # noqa: S105 - empty: no AUTH
    SMTP_TIMEOUT = 30  # seconds for each exchange with the server
    SMTP_DATA_TIMEOUT = 600  # seconds for the answer to the end of a message (RFC 5321)
    SMTP_CA_FILE = ""  # PEM file of the CAs to trust; empty: the system's
    MAIL_FROM = ""  # empty: HOTLINE_EMAIL
    MAIL_MESSAGE_ID_DOMAIN = ""  # the right of every Message-ID; empty: MAIL_FROM's domain
    MAIL_DEFAULT_LANGUAGE = "en"  # reporters' feedback when the report's language is unknown
    # Wording of the e-mails per language, over the defaults in casemgr/outbox/wording.py.
    MAIL_WORDING: dict = {}
    OUTBOX_MAX_ATTEMPTS = 6
    OUTBOX_RETRY_BASE_SECONDS = 300  # 5, 10, 20, 40, 80 min between attempts
    OUTBOX_RETRY_MAX_SECONDS = 6 * 3600
    OUTBOX_LEASE_SECONDS = 900  # a claim older than this is taken to be abandoned
    OUTBOX_BATCH_LIMIT = 5000  # messages a run sends at most
    # A message handed to the server whose answer was lost: "hold" it for a
    # supervisor (never sent twice automatically) or "resend" it (same Message-ID).
    OUTBOX_UNKNOWN_OUTCOME = "hold"

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
    # Who may reveal a reporter's contact details on a case page (each viewing
    # needs a reason and is audited): "assignee" (the case's assignee, and
    # supervisors and admins), "supervisors" (supervisors and admins only) or
    # "analysts" (every member of staff, the rule before issue 20). Any other
    # value stops the app at start.
    CONTACT_VIEWERS = "assignee"

    # The public report form's abuse limits, without tracking (docs/privacy.md,
    # casemgr/public/limits.py). Counted per client address, hashed with a salt
    # that is never stored; one address is often many people (carrier-grade NAT,
    # a school, an NGO). Accepted submissions that open new cases count towards
    # PUBLIC_REPORT_RATE_LIMIT (refused ones and all-duplicate ones do not);
    # every POST counts towards PUBLIC_REPORT_FLOOD_LIMIT, which stops floods.
    PUBLIC_REPORT_RATE_LIMIT = "20 per minute;200 per hour"
    PUBLIC_REPORT_FLOOD_LIMIT = "120 per minute;1200 per hour"
    RATELIMIT_ENABLED = True
    # Where the counts live. memory:// counts in each process: right for one
    # (development, tests, a single gunicorn worker). With more workers every
    # limit would hold once per worker, so gunicorn.conf.py refuses it: use
    # redis://host:6379/0 (pip install casemgr[redis]; docs/deployment.md).
    RATELIMIT_STORAGE_URI = "memory://"
    # Empty: random per process; gunicorn.conf.py makes one per start for all its
    # workers, never written anywhere. Hosts sharing one Redis need one set here.
    RATELIMIT_KEY_SALT = ""
    RATELIMIT_SWALLOW_ERRORS = True  # a storage outage must not take the form down
    RATELIMIT_HEADERS_ENABLED = False
    # How long the thank-you page can be reloaded from its address, in seconds.
    RECEIPT_MAX_AGE = 3600
    # The reporter's receipt code (/status, docs/privacy.md#receipt-codes):
    # scrypt's (N, r, p) for its hash: the scrypt paper's "interactive" cost
    # (16 MiB, a fifth of OWASP's password minimum), because the hashed part
    # is 80 random bits, not a password (docs/privacy.md#receipt-codes);
    # refused codes per client and for everyone together (each costs a hash);
    # additions per client; how long a checked code's page stays usable, seconds.
    RECEIPT_SCRYPT = (2**14, 8, 1)
    STATUS_RATE_LIMIT = "10 per minute;100 per hour"
    STATUS_GLOBAL_RATE_LIMIT = "300 per minute"
    STATUS_ADDITION_RATE_LIMIT = "20 per minute;200 per hour"
    STATUS_ACCESS_MAX_AGE = 1800
    # Number of reverse proxies in front of the app that set X-Forwarded-For
    # (0: none). Needed behind nginx so that rate limits count per client.
    TRUSTED_PROXY_COUNT = 0

    WTF_CSRF_TIME_LIMIT = None  # token lives as long as the session
    # Flask-WTF's extra check on HTTPS that the Referer names this host: off.
    # The anonymous pages send no Referer even to this site (the thank-you
    # page's address holds the receipt), and a privacy tool may strip it on
    # staff pages, which would refuse forms behind TLS. In its place every
    # staff POST's Origin must be this site (casemgr/security.py); the token,
    # bound to a session whose cookie is SameSite=Lax, stays the protection.
    WTF_CSRF_SSL_STRICT = False
    SESSION_COOKIE_HTTPONLY = True
    # Lax, not Strict: a link to a case in a notification e-mail (a top-level
    # GET from the webmail's site) must open the case for a signed-in user.
    # Every change is a POST with a CSRF token, which Lax never sends across sites.
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "casemgr_session"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(days=0)

    # Sessions end after this long without a request, and this long after sign-in.
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # Sign-in: after LOGIN_MAX_FAILURES failures within LOGIN_FAILURE_WINDOW_MINUTES
    # (password or second factor), the e-mail address is locked for
    # LOGIN_LOCKOUT_MINUTES, whether or not an account has it.
    LOGIN_MAX_FAILURES = 5
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    LOGIN_LOCKOUT_MINUTES = 15
    # Minutes between the password and the second step (code, or enrolment);
    # also how long the secret of a second factor being set up is kept.
    LOGIN_PENDING_MINUTES = 10
    # Supervisors and admins always need a second factor; this extends it to all.
    REQUIRE_2FA_FOR_ALL = False
    # Shown in the authenticator app next to the account (default: HOTLINE_NAME).
    TWO_FACTOR_ISSUER = ""

    # Response headers (casemgr/security.py). No inline script or style anywhere.
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
    PERMISSIONS_POLICY = (
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
        "interest-cohort=(), browsing-topics=()"
    )
    # Sent only in production (over TLS); empty: no Strict-Transport-Security header.
    STRICT_TRANSPORT_SECURITY = ""
    # One JSON line per request on the "casemgr.requests" logger (to standard error).
    REQUEST_LOG = True


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    REQUEST_LOG = False  # tests read the records with caplog instead
    WTF_CSRF_ENABLED = False
    SECRET_KEY = "testing-secret"  # noqa: S105
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - fast, for tests only
    CONTACT_ENCRYPTION_KEY = "dGVzdGluZy1rZXktdGVzdGluZy1rZXktdGVzdGluZyE="
    AUDIT_KEY = "testing-audit-key-testing-audit-key-0123"  # noqa: S105
    PUBLIC_BASE_URL = "http://casemgr.test"
    RECEIPT_SCRYPT = (16, 1, 1)  # fast, for tests only


class ProductionConfig(Config):
    ENV_NAME = "production"
    DEBUG = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    STRICT_TRANSPORT_SECURITY = "max-age=63072000"  # two years; TLS only from then on
    # __Host-: the browser keeps it only if Secure, for this host, on path /.
    SESSION_COOKIE_NAME = "__Host-casemgr_session"


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
