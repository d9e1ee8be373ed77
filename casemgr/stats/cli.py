"""``flask stats ...``: the figures and the monthly report from the command line."""

from __future__ import annotations

import json
import os

import click
from flask import current_app
from flask.cli import with_appcontext

from casemgr import context
from casemgr.domain import SYSTEM_ACTOR
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.notices.wording import letterhead_from_app
from casemgr.stats.exports import figures_csv
from casemgr.stats.figures import compute_figures
from casemgr.stats.figures_json import figures_as_dict
from casemgr.stats.operations import export_monthly_report
from casemgr.stats.selection import parse_filter, parse_month, parse_period


@click.group("stats", help="Statistics: the figures of a period, the monthly PDF report.")
def stats_cli():
    pass


def _usage_error(exc: ValidationFailed) -> click.UsageError:
    """Bad input: exit status 2 with the option named."""
    return click.UsageError(
        "; ".join(
            f"{name if name.startswith('--') else '--' + name}: {' '.join(messages)}"
            for name, messages in exc.fields.items()
        )
    )


@stats_cli.command("report")
@click.option("--month", required=True, help="The month, YYYY-MM (the current one: so far).")
@click.option("--output", required=True, help="Where to write the PDF, e.g. 2026-10.pdf.")
@click.option("--with-analysts", is_flag=True, help="Add the per-analyst table (internal).")
@with_appcontext
def report_command(month: str, output: str, with_analysts: bool):
    """Write the monthly statistics report as a PDF."""
    now = context.now()
    try:
        period = parse_month(month, today=now.date(), name="--month")
    except ValidationFailed as exc:
        raise _usage_error(exc) from None
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise click.UsageError(f"--output: the folder {folder} does not exist")
    figures, data = export_monthly_report(
        db.session,
        period,
        actor=SYSTEM_ACTOR,
        now=now,
        letterhead=letterhead_from_app(current_app),
        include_analysts=with_analysts,
        extra={"via": "cli", "output": os.path.abspath(output)},
        timezone=context.timezone(),
    )
    with open(output, "wb") as file:
        file.write(data)
    db.session.commit()
    click.echo(
        f"Wrote {output} ({len(data):,} bytes): statistics of {period.label}, "
        f"{figures.urls_reported:,} URLs reported, {figures.notified:,} notices sent."
    )


@stats_cli.command("figures")
@click.option("--from", "from_", help="First day, YYYY-MM-DD (default: 12 months ago).")
@click.option("--to", help="Last day, YYYY-MM-DD (default: today).")
@click.option("--country", help="Hosting country, e.g. KH.")
@click.option("--provider", help="Hosting provider id.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option("--with-analysts", is_flag=True, help="Add the per-analyst figures.")
@with_appcontext
def figures_command(from_, to, country, provider, fmt, with_analysts):
    """Print the figures of a period as JSON (or CSV)."""
    now = context.now()
    try:
        period = parse_period(from_, to, today=now.date(), names=("--from", "--to"))
        filters = parse_filter(db.session, country, provider)
    except ValidationFailed as exc:
        raise _usage_error(exc) from None
    figures = compute_figures(db.session, period, filters, now=now, include_analysts=with_analysts)
    if fmt == "csv":
        click.echo(figures_csv(figures), nl=False)
    else:
        click.echo(json.dumps(figures_as_dict(figures), indent=2, ensure_ascii=False))
