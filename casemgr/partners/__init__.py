"""Forwarding cases to partner hotlines that run casemgr, over their API v1.

A case forwarded (``forward_to_partner``) to a partner whose directory entry
carries an API base URL and our token there is queued as a
:class:`~casemgr.partners.models.PartnerLink` in the same transaction
(:mod:`casemgr.partners.subscribers`); the ``partners`` job
(:mod:`casemgr.jobs.partners`) delivers it with ``POST /api/v1/reports``
and then polls the partner's submission for the status of its case, which it
records on ours. docs/partners.md tells the whole story.
"""


def init_app(app) -> None:
    """The case page's partner box reads its link through this template global."""

    def partner_link_for_case(case_id: int) -> dict | None:
        from casemgr.extensions import db
        from casemgr.partners.queries import link_for_case

        return link_for_case(db.session, case_id)

    app.jinja_env.globals["partner_link_for_case"] = partner_link_for_case
