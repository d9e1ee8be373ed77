"""The removal check: HEAD requests to the URLs of cases waiting for removal.

Off by default (``URL_CHECKS_ENABLED``); docs/removal-check.md says what it
sends and what a hotline should clear with its police first. ``probe`` is the
HTTP part (stdlib only, no database), ``services`` records a result on a case
and reports a removal the checks confirm, ``queries`` reads, ``api`` serialises.
The job is ``casemgr/jobs/url_checks.py``. No routes: no blueprint.
"""
