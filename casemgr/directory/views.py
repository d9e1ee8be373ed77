"""The directory screens.

All staff may read the directory (an analyst needs a partner's or a
provider's address while working a case); only supervisors change it,
import it or export it.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from casemgr import context
from casemgr.auth.access import staff_required, supervisor_required
from casemgr.countries import is_country_code
from casemgr.directory import bp, operations, queries
from casemgr.directory.csvio import ImportFailed, ImportResult, export_csv, import_csv
from casemgr.directory.forms import KIND_LABELS, ImportForm, OrganisationForm
from casemgr.directory.inputs import OrganisationInput
from casemgr.domain import OrgKind
from casemgr.errors import ValidationFailed
from casemgr.extensions import db
from casemgr.forms import attach_errors
from casemgr.http import page_arg

STATUS_LABELS = {"active": _l("active"), "inactive": _l("deactivated"), "all": _l("all")}


@bp.route("/")
@staff_required
def index():
    country = (request.args.get("country") or "").strip().upper()
    filters = queries.DirectoryFilter(
        kind=request.args.get("kind") if request.args.get("kind") in set(OrgKind) else None,
        country="none" if country == "NONE" else (country if is_country_code(country) else None),
        q=(request.args.get("q") or "").strip()[:300] or None,
        status=request.args.get("status")
        if request.args.get("status") in queries.DIRECTORY_STATUSES
        else "active",
    )
    page = queries.search(db.session, filters, page=page_arg())
    return render_template(
        "directory/index.html",
        page=page,
        filters=filters,
        kinds=KIND_LABELS,
        statuses={status: STATUS_LABELS[status] for status in queries.DIRECTORY_STATUSES},
        can_manage=current_user.has_role("supervisor"),
    )


@bp.route("/<int:organisation_id>")
@staff_required
def detail(organisation_id: int):
    organisation = queries.get_organisation(db.session, organisation_id)
    return render_template(
        "directory/detail.html",
        organisation=organisation,
        kinds=KIND_LABELS,
        cases=queries.cases_referring(db.session, organisation.id),
        can_manage=current_user.has_role("supervisor"),
    )


@bp.route("/new", methods=["GET", "POST"])
@supervisor_required
def new():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = operations.create_organisation(
                db.session, _input(form), now=context.now(), actor=current_user.actor
            )
        except ValidationFailed as exc:
            attach_errors(form, exc)
        else:
            db.session.commit()
            flash(gettext("%(name)s added to the directory.", name=organisation.name), "success")
            return redirect(url_for("directory.detail", organisation_id=organisation.id))
    return _render_form(form, None)


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
@supervisor_required
def edit(organisation_id: int):
    organisation = queries.get_organisation(db.session, organisation_id)
    form = OrganisationForm(
        formdata=request.form if request.method == "POST" else None,
        data=None if request.method == "POST" else _form_data(organisation),
    )
    if form.validate_on_submit():
        try:
            changes = operations.update_organisation(
                db.session,
                organisation,
                _input(form),
                now=context.now(),
                actor=current_user.actor,
            )
        except ValidationFailed as exc:  # raised before anything is changed
            attach_errors(form, exc)
        else:
            db.session.commit()
            flash(
                gettext("%(name)s: saved.", name=organisation.name)
                if changes
                else gettext("Nothing changed."),
                "success" if changes else "info",
            )
            return redirect(url_for("directory.detail", organisation_id=organisation.id))
    return _render_form(form, organisation)


@bp.route("/<int:organisation_id>/deactivate", methods=["POST"])
@supervisor_required
def deactivate(organisation_id: int):
    return _set_active(organisation_id, False)


@bp.route("/<int:organisation_id>/activate", methods=["POST"])
@supervisor_required
def activate(organisation_id: int):
    return _set_active(organisation_id, True)


def _set_active(organisation_id: int, active: bool):
    organisation = queries.get_organisation(db.session, organisation_id)
    operations.set_active(
        db.session, organisation, active, now=context.now(), actor=current_user.actor
    )
    db.session.commit()
    if active:
        flash(gettext("%(name)s is active again.", name=organisation.name), "success")
    else:
        flash(
            gettext(
                "%(name)s is deactivated: it is no longer offered for new actions; "
                "cases that name it keep it.",
                name=organisation.name,
            ),
            "success",
        )
    return redirect(url_for("directory.detail", organisation_id=organisation.id))


@bp.route("/import", methods=["GET", "POST"])
@supervisor_required
def import_file():
    form = ImportForm()
    problems, result = [], None
    if form.validate_on_submit():
        try:
            result = import_csv(
                db.session,
                form.file.data.read(),
                now=context.now(),
                actor=current_user.actor,
                source="web",
                dry_run=form.dry_run.data,
            )
        except ImportFailed as exc:
            db.session.rollback()
            problems = exc.problems
        else:
            if not result.dry_run:
                db.session.commit()
                flash(
                    gettext("Directory imported. %(summary)s", summary=import_summary(result)),
                    "success",
                )
                return redirect(url_for("directory.index"))
    status = 422 if (problems or form.errors) else 200
    return render_template(
        "directory/import.html",
        form=form,
        problems=problems,
        result=result,
        summary=import_summary(result) if result else "",
    ), status


def import_summary(result: ImportResult) -> str:
    """What an import did, or would do (a dry run), in the staff's language."""
    counts = {
        "rows": result.rows,
        "added": len(result.created),
        "changed": len(result.updated),
        "unchanged": result.unchanged,
    }
    if result.dry_run:
        return gettext(
            "%(rows)d row(s): %(added)d would be added, %(changed)d would be changed, "
            "%(unchanged)d unchanged.",
            **counts,
        )
    return gettext(
        "%(rows)d row(s): %(added)d added, %(changed)d changed, %(unchanged)d unchanged.",
        **counts,
    )


@bp.route("/export.csv")
@supervisor_required
def export_file():
    text = export_csv(db.session, now=context.now(), actor=current_user.actor, source="web")
    db.session.commit()
    filename = f"directory-{context.now():%Y%m%d}.csv"
    return Response(
        text.encode("utf-8-sig"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _render_form(form: OrganisationForm, organisation):
    status = 422 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template(
        "directory/form.html", form=form, organisation=organisation, kinds=KIND_LABELS
    ), status


def _form_data(organisation) -> dict:
    return {
        "kind": organisation.kind,
        "name": organisation.name,
        "country": organisation.country or "",
        "email": organisation.email or "",
        "language": organisation.language,
        "domains": "\n".join(organisation.domain_names),
        "networks": "\n".join(organisation.cidrs),
        "address": organisation.address,
        "notes": organisation.notes,
        "trust_removal_reports": organisation.trust_removal_reports,
        "api_base_url": organisation.api_base_url or "",
        "forward_by": organisation.forward_by,
    }


def _input(form: OrganisationForm) -> OrganisationInput:
    return OrganisationInput(
        kind=form.kind.data or "",
        name=form.name.data or "",
        country=form.country.data or None,
        email=form.email.data or None,
        language=form.language.data or "en",
        address=form.address.data or "",
        notes=form.notes.data or "",
        domains=form.domains.data or "",
        networks=form.networks.data or "",
        trust_removal_reports=bool(form.trust_removal_reports.data),
        api_base_url=form.api_base_url.data or "",
        forward_by=form.forward_by.data or "letter",
        api_token=form.api_token.data or None,
        remove_api_token=bool(form.remove_api_token.data),
    )
