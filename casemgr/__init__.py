"""casemgr: notice-and-takedown case management for internet hotlines."""

from __future__ import annotations

import os
from typing import Any

from flask import Config as FlaskConfig
from flask import Flask

from casemgr.clock import Clock, SystemClock
from config import DEFAULT_SECRET_KEY, config_class


def create_app(config: dict[str, Any] | str | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the application.

    ``config`` is a config name ("development", "testing", "production") or a
    mapping of settings applied last (tests use it; with ``TESTING`` true it
    starts from the testing configuration). ``clock`` is the source of
    "now" for everything the app does; tests pass a fixed one.
    """
    app = _bare_app()
    _load_settings(app, config)
    _finish_config(app)

    app.extensions["casemgr.clock"] = clock or SystemClock()
    from casemgr.directory.tracing import system_resolver

    # The DNS used by "Trace host" on the case page; tests replace it.
    app.extensions["casemgr.resolver"] = system_resolver
    from casemgr import inputs

    inputs.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _subscribe_to_events()

    from casemgr import navigation, partners, security, templating
    from casemgr.auth import sessions
    from casemgr.http import register_error_handlers

    templating.init_app(app)
    partners.init_app(app)
    navigation.init_app(app)
    security.init_app(app)
    sessions.init_app(app)
    register_error_handlers(app)
    return app


def load_settings(config: dict[str, Any] | str | None = None) -> FlaskConfig:
    """The settings ``create_app(config)`` would start with, without building
    the app: gunicorn.conf.py checks them before it starts any worker."""
    app = _bare_app()
    _load_settings(app, config)
    return app.config


def app_folder(name: str) -> str:
    """templates/, static/ or migrations/: beside the package in a checkout (and
    an editable install), inside it when installed from a wheel (setup.py)."""
    package = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(package, name)
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(package), name)


def _bare_app() -> Flask:
    return Flask(
        __name__,
        instance_relative_config=True,
        template_folder=app_folder("templates"),
        static_folder=app_folder("static"),
    )


def _load_settings(app: Flask, config: dict[str, Any] | str | None) -> None:
    overrides = config if isinstance(config, dict) else {}
    name = config if isinstance(config, str) else ("testing" if overrides.get("TESTING") else None)
    app.config.from_object(config_class(name))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CASEMGR")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config.update(overrides)


def _finish_config(app: Flask) -> None:
    os.makedirs(app.instance_path, exist_ok=True)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if not uri:
        uri = "sqlite:///" + os.path.join(app.instance_path, "casemgr.db")
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri.removeprefix("postgres://")
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    app.config["SQLALCHEMY_DATABASE_URI"] = uri

    if app.config["ENV_NAME"] == "production" and app.debug:
        raise RuntimeError(
            "casemgr refuses to start in production with DEBUG on: the debugger runs "
            "code sent to it, and error pages would show stack traces"
        )
    if not app.debug and not app.testing:
        problems = []
        if app.config["SECRET_KEY"] in ("", DEFAULT_SECRET_KEY):
            problems.append(
                "SECRET_KEY is the development default; set CASEMGR_SECRET_KEY or SECRET_KEY "
                "in instance/config.py to a long random value "
                "(python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        if not app.config["CONTACT_ENCRYPTION_KEY"]:
            problems.append(
                "CONTACT_ENCRYPTION_KEY is not set; reporters' contact details need their own "
                "key (flask --app wsgi keys contact prints a new one). Keep a copy: without it "
                "stored contact details cannot be read"
            )
        from casemgr.ratelimits import server_problem

        limits_problem = server_problem(app.config, os.environ)
        if limits_problem:
            problems.append(limits_problem)
        if not app.config["AUDIT_KEY"] and not app.config["AUDIT_KEY_FILE"]:
            problems.append(
                "AUDIT_KEY is not set; the audit log's entries and checkpoints are made under "
                "it (flask --app wsgi keys audit prints a new one; or AUDIT_KEY_FILE names a "
                "file holding it). Keep a copy outside the database: without it the log "
                "cannot be verified"
            )
        if problems:
            raise RuntimeError(
                "casemgr refuses to start in production:\n- " + "\n- ".join(problems)
            )

    from casemgr.audit.checkpoints import file_problem, installation_id
    from casemgr.audit.keys import AuditKeys
    from casemgr.crypto import ContactCipher
    from casemgr.localtime import zone
    from casemgr.responses.links import LinkSettings
    from casemgr.settings import ContactViewers, LoginPolicy, Timings

    try:
        app.extensions["casemgr.timezone"] = zone(app.config.get("HOTLINE_TIMEZONE", "UTC"))
        app.extensions["casemgr.contact_viewers"] = ContactViewers.from_config(app.config)
    except ValueError as exc:
        raise RuntimeError(f"casemgr refuses to start: {exc}") from None

    try:
        app.extensions["casemgr.audit_keys"] = AuditKeys.from_config(
            app.config, derive_from=app.config["SECRET_KEY"] if app.debug or app.testing else None
        )
        installation_id(app.config)
    except ValueError as exc:
        raise RuntimeError(f"casemgr refuses to start: {exc}") from None
    checkpoint_file = file_problem(app.config["AUDIT_CHECKPOINT_FILE"], uri)
    if checkpoint_file:
        raise RuntimeError(f"casemgr refuses to start: {checkpoint_file}")

    app.extensions["casemgr.timings"] = Timings.from_config(app.config)
    app.extensions["casemgr.login_policy"] = LoginPolicy.from_config(app.config)
    app.extensions["casemgr.response_links"] = LinkSettings.from_config(app.config)
    try:
        app.extensions["casemgr.cipher"] = ContactCipher.from_config(app.config)
    except ValueError as exc:
        raise RuntimeError(f"casemgr refuses to start: {exc}") from None


def _init_extensions(app: Flask) -> None:
    # Importing models makes the metadata complete for Alembic.
    from casemgr import i18n, models, privacy  # noqa: F401
    from casemgr.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=app_folder("migrations"),
        render_as_batch=True,  # SQLite can only ALTER tables by copying them
        compare_type=True,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager._session_identifier_generator = privacy.session_identifier
    privacy.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from casemgr.alerts import bp as alerts_bp
    from casemgr.api import bp as api_bp
    from casemgr.apidocs import bp as apidocs_bp
    from casemgr.audit import bp as audit_bp
    from casemgr.auth import bp as auth_bp
    from casemgr.cases import bp as cases_bp
    from casemgr.directory import bp as directory_bp
    from casemgr.inbound import bp as inbound_bp
    from casemgr.notices import bp as notices_bp
    from casemgr.notifications import bp as notifications_bp
    from casemgr.ops import bp as ops_bp
    from casemgr.outbox import bp as outbox_bp
    from casemgr.public import bp as public_bp
    from casemgr.reporter import bp as reporter_bp
    from casemgr.responses import bp as responses_bp
    from casemgr.staff import bp as staff_bp
    from casemgr.stats import bp as stats_bp
    from casemgr.system import bp as system_bp

    for module in (
        "casemgr.audit.views",
        "casemgr.auth.views",
        "casemgr.auth.account_views",
        "casemgr.staff.views",
        "casemgr.ops.views",
        "casemgr.cases.views",
        "casemgr.cases.note_views",
        "casemgr.cases.bulk_views",
        "casemgr.directory.views",
        "casemgr.public.views",
        "casemgr.reporter.views",
        "casemgr.reporter.staff_views",
        "casemgr.responses.views",
        "casemgr.stats.views",
        "casemgr.notices.views",
        "casemgr.alerts.views",
        "casemgr.outbox.views",
        "casemgr.notifications.views",
        "casemgr.inbound.views",
        "casemgr.system.views",
        "casemgr.apidocs.views",
    ):
        __import__(module)
    # Each feature serves its API resources on the API blueprint; the document
    # assembles their parts.
    for module in (
        "casemgr.cases.api",
        "casemgr.cases.bulk_api",
        "casemgr.directory.api",
        "casemgr.stats.api",
        "casemgr.notices.api",
        "casemgr.api.openapi",
    ):
        __import__(module)

    app.register_blueprint(public_bp)
    app.register_blueprint(reporter_bp)
    app.register_blueprint(responses_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(stats_bp)
    app.register_blueprint(notices_bp)
    app.register_blueprint(alerts_bp)
    app.register_blueprint(outbox_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(inbound_bp)
    app.register_blueprint(system_bp)
    app.register_blueprint(apidocs_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def _subscribe_to_events() -> None:
    """Connect the features that act on other features' events (casemgr.events).

    Connecting a receiver twice is a no-op, so every app built in a process
    shares one set of receivers.
    """
    from casemgr.notifications import subscribers as notification_subscribers
    from casemgr.outbox import subscribers as outbox_subscribers
    from casemgr.partners import subscribers as partner_subscribers

    outbox_subscribers.subscribe()
    partner_subscribers.subscribe()
    notification_subscribers.subscribe()


def _register_cli(app: Flask) -> None:
    from flask_migrate.cli import db as migrate_db_cli

    from casemgr.audit.cli import audit_cli, audit_key_command
    from casemgr.auth.cli import keys_cli, users_cli
    from casemgr.demo import demo_command
    from casemgr.directory.cli import directory_cli
    from casemgr.inbound.cli import mail_cli
    from casemgr.jobs.cli import jobs_cli
    from casemgr.jobs.scheduler import scheduler_command
    from casemgr.jobs.status_cli import status_command
    from casemgr.keys.cli import rotate_contact_command
    from casemgr.notices.cli import notices_cli
    from casemgr.ops.backup_cli import add_backup_commands
    from casemgr.ops.copy_cli import copy_command
    from casemgr.stats.cli import stats_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
    keys_cli.add_command(audit_key_command)
    keys_cli.add_command(rotate_contact_command)
    app.cli.add_command(keys_cli)
    app.cli.add_command(directory_cli)
    app.cli.add_command(demo_command)
    jobs_cli.add_command(status_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(stats_cli)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(notices_cli)
    app.cli.add_command(mail_cli)
    migrate_db_cli.add_command(copy_command)
    add_backup_commands(app)  # db backup, db restore: into Flask-Migrate's db group
