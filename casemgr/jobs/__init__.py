"""Scheduled jobs: plain functions ``run(session, now, app) -> JobSummary``.

``flask --app wsgi jobs run NAME`` runs one once; ``flask --app wsgi
scheduler`` (its own process, never the web processes) runs them on the
intervals of ``SCHEDULE``. The registry is :data:`casemgr.jobs.cli.JOBS`.
"""
