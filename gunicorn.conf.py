"""gunicorn settings for production (docs/deployment.md): ``gunicorn -c gunicorn.conf.py wsgi:app``.

Behind nginx on the same host: nginx terminates TLS and passes requests here.
"""

import multiprocessing
import os

bind = os.environ.get("CASEMGR_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("CASEMGR_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then
max_requests_jitter = 200

# Only nginx on this host may say the request came over HTTPS.
forwarded_allow_ips = "127.0.0.1"
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# Request limits (gunicorn's own refusals: 400 before the app sees anything).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# No access log here: the app writes one JSON line per request itself, with
# the route's template and without IP address or user agent (casemgr/security.py).
accesslog = None
errorlog = "-"
loglevel = "info"
