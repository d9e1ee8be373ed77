"""gunicorn settings for casemgr: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Behind nginx on the same host (docs/deployment.md): nginx terminates TLS and
passes requests here. Command-line options override what is set here, and so
do the environment variables read below.

Logging: the app writes one JSON line per request itself, with the route's
template and without IP address or user agent (casemgr/security.py), so
gunicorn's access log is off by default. Switched on (``--access-logfile`` or
GUNICORN_ACCESS_LOG), it goes through casemgr.gunicorn_logging.PrivacyLogger,
which blanks the address, user agent, referrer and query string on public
paths (docs/privacy.md also shows how to keep nginx quiet).
"""

import os
import secrets

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
max_requests = 2000  # recycle workers now and then
max_requests_jitter = 200

# Only nginx on this host may say the request came over HTTPS.
forwarded_allow_ips = "127.0.0.1"
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Request limits: gunicorn refuses larger ones (400) before the app sees them.
# The whole body is limited by the app's MAX_CONTENT_LENGTH (1 MiB).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "casemgr.gunicorn_logging.PrivacyLogger"
# The usual "combined" format; on public paths the logger blanks the address,
# user agent, referrer and query string whatever this says.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# One rate-limit salt for all the workers of this server, so that a shared
# RATELIMIT_STORAGE_URI (Redis) counts each client once. It is random at each
# start and never written anywhere; the workers inherit it from the master.
# Several hosts sharing one Redis need one salt set for all of them
# (CASEMGR_RATELIMIT_KEY_SALT in the environment; docs/deployment.md).
os.environ.setdefault("CASEMGR_RATELIMIT_KEY_SALT", secrets.token_hex(32))


def nworkers_changed(server, new_value, old_value):
    """Refuse a number of workers that would multiply every rate limit.

    gunicorn calls this whenever it sets the number, before forking: at start
    (the command line's -w applied), on reload (HUP), and when asked for more
    (TTIN, the control socket). With memory:// (counts per process) more than
    one worker is refused: at start the master leaves with the reason in the
    error log; a request for more workers is turned down; a reload whose
    settings no longer fit the running workers stops the server.
    """
    from gunicorn.errors import HaltServer

    from casemgr import load_settings
    from casemgr.ratelimits import WORKERS_ENV, worker_problem

    settings = load_settings() if new_value > 1 else {}
    problem = worker_problem(settings, new_value) if new_value > 1 else None
    if problem is None:
        os.environ[WORKERS_ENV] = str(new_value)  # the workers see what was checked
        return
    if old_value is None:
        server.log.error("casemgr refuses to start: %s", problem)
        raise SystemExit(1)
    if old_value < new_value and worker_problem(settings, old_value) is None:
        server._num_workers = old_value  # the property's own field: no second call
        server.log.error("casemgr keeps %s worker(s): %s", old_value, problem)
        return
    server.log.error("casemgr stops: %s", problem)
    raise HaltServer("the rate limits would count per worker", 1)
