"""The statistics dashboard, its exports, the monthly PDF and the stored monthly reports:
supervisors and admins only."""

from __future__ import annotations

import io
from datetime import date, timedelta

from babel.dates import format_date
from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import supervisor_required
from casemgr.directory.queries import list_organisations
from casemgr.domain import Role
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.http import stored_pdf_response
from casemgr.i18n import current_language
from casemgr.navigation import register_nav_item
from casemgr.notices.wording import letterhead_from_app
from casemgr.stats import bp, charts, exports, operations
from casemgr.stats.figures import TIME_LABELS, compute_figures
from casemgr.stats.selection import (
    Period,
    StatsFilter,
    default_period,
    parse_month,
    parse_past_month,
    parse_selection,
    previous_month,
)
from casemgr.stats.stored_reports import get_report, list_reports

register_nav_item(_l("Statistics"), "stats.dashboard", Role.SUPERVISOR)
# The parameters an error can name, as the screens call them.
FIELD_NAMES = {
    "from": _l("From"),
    "to": _l("To"),
    "country": _l("Hosting country"),
    "provider": _l("Hosting provider"),
    "month": _l("Month"),
}
bp.add_app_template_filter(charts.seconds_text, "seconds")


def _selection(args) -> tuple[Period, StatsFilter]:
    return parse_selection(db.session, args, today=context.now().date())


def _filename(stem: str, period: Period, ext: str) -> str:
    return f"{stem}-{period.start.isoformat()}-to-{period.end.isoformat()}.{ext}"


@bp.route("/")
@supervisor_required
def dashboard():
    now = context.now()
    options = {
        "providers": list_organisations(db.session, "hosting_provider"),
        "presets": _presets(now.date()),
        "this_month": now.strftime("%Y-%m"),
        "field_names": FIELD_NAMES,
    }
    try:
        period, filters = _selection(request.args)
    except ValidationFailed as exc:
        return render_template("stats/dashboard.html", errors=exc.fields, **options), 422
    figures = compute_figures(db.session, period, filters, now=now, include_analysts=True)
    return render_template(
        "stats/dashboard.html",
        errors={},
        figures=figures,
        charts=charts.dashboard_charts(figures, current_language()),
        time_labels={key: gettext(text) for key, text in TIME_LABELS.items()},
        period_label=_period_label(figures.period),
        chosen_preset=chosen_preset(
            preset_periods(now.date()), figures.period, request.args.get("period")
        ),
        **options,
    )


def _period_label(period: Period) -> str:
    """The period as the screen names it, in the staff's language ("October 2026")."""
    if period.is_month:
        return format_date(period.start, "LLLL y", locale=current_language())
    return f"{period.start.isoformat()} – {period.end.isoformat()}"


PRESET_LABELS = {
    "this_month": _l("This month"),
    "last_month": _l("Last month"),
    "last_12_months": _l("Last 12 months"),
    "this_year": _l("This year"),
}


def preset_periods(today: date) -> dict[str, Period]:
    """The quick periods by name, as of ``today``: each ends today, but last month."""
    first = today.replace(day=1)
    last_month_end = first - timedelta(days=1)
    return {
        "this_month": Period(first, today),
        "last_month": Period(last_month_end.replace(day=1), last_month_end),
        "last_12_months": default_period(today),
        "this_year": Period(today.replace(month=1, day=1), today),
    }


def chosen_preset(
    presets: dict[str, Period], shown: Period | None, asked: str | None
) -> str | None:
    """The one quick period to highlight: the one the link named (``?period=``)
    if it is the period shown; without a name, the first whose dates are shown
    (on 31 December the last 12 months are this year)."""
    if shown is None:
        return None
    if asked:
        return asked if presets.get(asked) == shown else None
    return next((name for name, period in presets.items() if period == shown), None)


def _presets(today: date) -> list[tuple[str, str, str, str]]:
    """(name, label, from, to) of the quick periods."""
    return [
        (name, str(PRESET_LABELS[name]), period.start.isoformat(), period.end.isoformat())
        for name, period in preset_periods(today).items()
    ]


@bp.route("/figures.csv")
@supervisor_required
def figures_csv():
    period, filters = _selection(request.args)
    now = context.now()
    figures = compute_figures(db.session, period, filters, now=now, include_analysts=True)
    operations.record_export(
        db.session, "stats.export_figures", period, filters, actor=current_user.actor, now=now
    )
    db.session.commit()
    return Response(
        exports.figures_csv(figures),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename={_filename('figures', period, 'csv')}"
        },
    )


@bp.route("/cases.csv", methods=["POST"])
@supervisor_required
def cases_csv():
    period, filters = _selection(request.form)
    rows = operations.export_cases_csv(
        db.session,
        period,
        filters,
        actor=current_user.actor,
        now=context.now(),
        include_urls=request.form.get("include_urls") == "1",
        timezone=context.timezone(),
        language=current_language(),
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
    period = parse_month(request.args.get("month"), today=now.date())
    _, data = operations.export_monthly_report(
        db.session,
        period,
        actor=current_user.actor,
        now=now,
        letterhead=letterhead_from_app(current_app),
        include_analysts=request.args.get("analysts") == "1",
        timezone=context.timezone(),
    )
    db.session.commit()
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        download_name=f"statistics-{period.start.strftime('%Y-%m')}.pdf",
    )


# --- stored monthly reports


def _render_stored_reports(errors: dict[str, list[str]] | None = None, status: int = 200):
    last_month = previous_month(context.now()).start.strftime("%Y-%m")
    return (
        render_template(
            "stats/reports.html",
            reports=list_reports(db.session),
            errors=errors or {},
            month=request.form.get("month", last_month),
            last_month=last_month,
            field_names=FIELD_NAMES,
        ),
        status,
    )


@bp.route("/reports/")
@supervisor_required
def stored_reports():
    return _render_stored_reports()


@bp.route("/reports/", methods=["POST"])
@supervisor_required
def store_report():
    """Make the report of a past month now; replace the stored one only when asked."""
    now = context.now()
    try:
        period = parse_past_month(request.form.get("month"), now=now)
    except ValidationFailed as exc:
        return _render_stored_reports(exc.fields, 422)
    result = operations.store_monthly_report(
        db.session,
        period,
        now=now,
        actor=current_user.actor,
        letterhead=letterhead_from_app(current_app),
        replace=request.form.get("replace") == "1",
        timezone=context.timezone(),
    )
    db.session.commit()
    month = format_date(period.start, "LLLL y", locale=current_language())
    if result.made and result.outcome == operations.REPLACED:
        flash(gettext("The report of %(month)s is replaced.", month=month), "success")
    elif result.made:
        flash(gettext("The report of %(month)s is stored.", month=month), "success")
    else:
        flash(
            gettext(
                "The report of %(month)s is already stored; to make it again, "
                "tick “replace the stored report”.",
                month=month,
            ),
            "info",
        )
    return redirect(url_for("stats.stored_reports"))


@bp.route("/reports/<month>.pdf")
@supervisor_required
def stored_report_pdf(month: str):
    """A stored report, byte for byte; the download is audited first."""
    report = get_report(db.session, month)
    operations.record_download(db.session, report, actor=current_user.actor, now=context.now())
    response = stored_pdf_response(
        report.pdf, filename=report.filename, sha256=report.sha256, created_at=report.created_at
    )
    db.session.commit()  # the audit entry, before the PDF goes out
    return response
