"""Scheduled jobs: plain functions ``run(session, now, settings) -> summary``.

Each job flushes and never commits; the caller (``flask --app wsgi jobs run
NAME``, or the scheduler) commits once. The registry is in
:mod:`casemgr.jobs.cli`.
"""
