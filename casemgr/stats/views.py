"""The statistics dashboard, its exports and the monthly PDF: supervisors and admins only."""

from __future__ import annotations

from datetime import timedelta

from flask import (
    Response,
    current_app,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import supervisor_required
from casemgr.cases.workflow import Role
from casemgr.countries import country_choices
from casemgr.directory import services as directory
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.navigation import register_nav_item
from casemgr.stats import bp, charts, pdf
from casemgr.stats import services as stats

register_nav_item("Statistics", "stats.dashboard", Role.SUPERVISOR)
bp.add_app_template_filter(charts.seconds_text, "seconds")


def _selection(args) -> tuple[stats.Period, stats.StatsFilter]:
    return stats.parse_selection(db.session, args, today=context.now().date())


def _filename(stem: str, period: stats.Period, ext: str) -> str:
    return f"{stem}-{period.start.isoformat()}-to-{period.end.isoformat()}.{ext}"


@bp.route("/")
@supervisor_required
def dashboard():
    now = context.now()
    options = {
        "countries": country_choices(),
        "providers": directory.list_organisations(db.session, "hosting_provider"),
        "presets": _presets(now.date()),
        "this_month": now.strftime("%Y-%m"),
    }
    try:
        period, filters = _selection(request.args)
    except ValidationFailed as exc:
        return render_template("stats/dashboard.html", errors=exc.fields, **options), 422
    figures = stats.compute_figures(db.session, period, filters, now=now, include_analysts=True)
    return render_template(
        "stats/dashboard.html",
        errors={},
        figures=figures,
        charts=charts.dashboard_charts(figures),
        time_labels=stats.TIME_LABELS,
        **options,
    )


def _presets(today) -> list[tuple[str, str, str]]:
    """(label, from, to) of the quick periods."""
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    last_12 = stats.default_period(today)
    return [
        ("This month", first.isoformat(), today.isoformat()),
        ("Last month", last_month_end.replace(day=1).isoformat(), last_month_end.isoformat()),
        ("Last 12 months", last_12.start.isoformat(), today.isoformat()),
        ("This year", today.replace(month=1, day=1).isoformat(), today.isoformat()),
    ]


@bp.route("/figures.csv")
@supervisor_required
def figures_csv():
    period, filters = _selection(request.args)
    now = context.now()
    figures = stats.compute_figures(db.session, period, filters, now=now, include_analysts=True)
    stats.record_export(
        db.session, "stats.export_figures", period, filters, actor=current_user, now=now
    )
    db.session.commit()
    return Response(
        stats.figures_csv(figures),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={_filename('figures', period, 'csv')}"
        },
    )


@bp.route("/cases.csv", methods=["POST"])
@supervisor_required
def cases_csv():
    period, filters = _selection(request.form)
    rows = stats.export_cases_csv(
        db.session,
        period,
        filters,
        actor=current_user,
        now=context.now(),
        include_urls=request.form.get("include_urls") == "1",
    )
    db.session.commit()  # the audit entry, before a single row goes out
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={_filename('cases', period, 'csv')}"
        },
    )


@bp.route("/report.pdf")
@supervisor_required
def report_pdf():
    now = context.now()
    period = stats.parse_month(request.args.get("month"), today=now.date())
    include_analysts = request.args.get("analysts") == "1"
    figures = stats.compute_figures(db.session, period, now=now, include_analysts=include_analysts)
    data = pdf.monthly_report(figures, letterhead=pdf.Letterhead.from_config(current_app.config))
    stats.record_export(
        db.session,
        "stats.report",
        period,
        stats.StatsFilter(),
        actor=current_user,
        now=now,
        extra={"per_analyst": include_analysts},
    )
    db.session.commit()
    return send_file(
        pdf.as_file(data),
        mimetype="application/pdf",
        download_name=f"statistics-{period.start.strftime('%Y-%m')}.pdf",
    )
