"""gunicorn settings for casemgr: ``gunicorn -c gunicorn.conf.py wsgi:app``.

The access log keeps no reporter's IP address, user agent or query string:
see casemgr/gunicorn_logging.py and docs/privacy.md (which also shows how to
keep nginx quiet). Command-line options override what is set here, and so do
the environment variables read below.
"""

import os
import secrets

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 10
# The form's whole request is at most MAX_CONTENT_LENGTH (1 MiB); headers
# beyond these limits are refused by gunicorn before the app sees them.
limit_request_line = 8190
limit_request_fields = 100

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "casemgr.gunicorn_logging.PrivacyLogger"
# The usual "combined" format; on public paths the logger blanks the address,
# user agent, referrer and query string whatever this says.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# One rate-limit salt for all the workers of this server, so that a shared
# RATELIMIT_STORAGE_URI (Redis) counts each client once. It is random at each
# start and never written anywhere; the workers inherit it from the master.
os.environ.setdefault("CASEMGR_RATELIMIT_KEY_SALT", secrets.token_hex(32))
