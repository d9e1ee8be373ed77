"""The permission matrix: every route of the app, every method, for each kind
of caller, with the answer expected. Table-driven: a new route needs a row in
PERMISSIONS (the test names the missing row), and a row whose route is gone
fails too.

Callers: ``anonymous`` (no session, no token), then ``analyst``,
``supervisor`` and ``admin``: signed in (with their second factor) for pages,
with a bearer token of their own (and no session) for the API; last
``partner``, a partner hotline's account: for pages it tries to sign in, is
refused and so stays anonymous; for the API it has a token of its own, and
every operation refuses it (403) but the three of ``api-partner``.
"""

from __future__ import annotations

import pytest

from casemgr import context, create_app
from casemgr.auth.tokens import issue_api_token, issue_token
from casemgr.cases import services
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db
from casemgr.reporter.codes import ScryptParams
from casemgr.reporter.services import issue_receipt, new_receipt_code
from tests.conftest import login

CALLERS = ("anonymous", "analyst", "supervisor", "admin", "partner")

# Outcomes. ALLOWED: the view ran (any answer but a refusal: 2xx, a redirect
# that is not to the sign-in, 404/405/409/422 for the empty request the
# matrix sends) and never a 5xx. LOGIN: 302 to the sign-in page, which comes
# back here (?next=). 401 and 403: refused.
ALLOWED, LOGIN = "allowed", "login"

_ = ALLOWED
# Columns:       anonymous analyst  supervisor admin  partner
ACCESS: dict[str, dict[str, str | int]] = {
    name: dict(zip(CALLERS, answers, strict=True))
    for name, answers in {
        # Anyone, signed in or not (the public pages, the sign-in steps, /healthz).
        "public": (_, _, _, _, _),
        # Signed-in staff; a partner never has a session (signing in is refused).
        "staff": (LOGIN, _, _, _, LOGIN),
        "supervisor": (LOGIN, 403, _, _, LOGIN),
        "admin": (LOGIN, 403, 403, _, LOGIN),
        # The API: a bearer token, never the session. A partner is refused by
        # default; "api-partner" are the operations that let it in (and show it
        # only what it sent: 404 for anything else, which counts as allowed here).
        "api-public": (_, _, _, _, _),
        "api-staff": (401, _, _, _, 403),
        "api-supervisor": (401, 403, _, _, 403),
        "api-partner": (401, _, _, _, _),
        # Need-to-know on a case: its assignee and supervisors (the matrix's analyst
        # holds no case; NEED_TO_KNOW below checks the assignee and a colleague).
        "case-holder": (LOGIN, 403, _, _, LOGIN),
    }.items()
}

PERMISSIONS: dict[str, str] = {
    # public pages and operations
    "GET /": "public",
    "GET /static/<path:filename>": "public",
    "GET /healthz": "public",
    # the API reference: as public as the document it shows (GET /api/v1/openapi.json)
    "GET /api-reference": "public",
    "GET /api-reference/swagger-ui.css": "public",
    "GET /api-reference/swagger-ui-bundle.js": "public",
    # the anonymous report form
    "GET /report": "public",
    "POST /report": "public",
    "GET /report/thanks": "public",
    "GET /status": "public",
    "POST /status": "public",
    "GET /status/add": "public",
    "POST /status/add": "public",
    # a letter's response page: the link is the key (tests/responses)
    "GET /respond/<token>": "public",
    "POST /respond/<token>": "public",
    # signing in
    "GET /login": "public",
    "POST /login": "public",
    "GET /login/code": "public",  # without the password step: back to /login
    "POST /login/code": "public",
    "GET /login/enrol": "public",
    "POST /login/enrol": "public",
    "POST /logout": "staff",
    # one's own account
    "GET /account": "staff",
    "POST /account/language": "staff",
    "GET /account/password": "staff",
    "POST /account/password": "staff",
    "GET /account/two-factor": "staff",
    "POST /account/two-factor": "staff",
    "POST /account/two-factor/recovery-codes": "staff",
    "POST /account/sessions/end": "staff",  # signs the caller out everywhere
    # cases
    "GET /cases/": "staff",
    "GET /cases/new": "staff",
    "POST /cases/new": "staff",
    "GET /cases/<int:case_id>": "staff",
    "POST /cases/<int:case_id>/actions/<action>": "staff",  # the workflow checks the role
    "POST /cases/<int:case_id>/contact": "case-holder",  # CONTACT_VIEWERS, see NEED_TO_KNOW
    "POST /cases/<int:case_id>/reporter-question": "case-holder",  # see NEED_TO_KNOW
    "POST /cases/<int:case_id>/trace": "staff",
    "POST /cases/<int:case_id>/notes": "staff",
    "POST /cases/bulk": "staff",  # the workflow checks each case's action
    "GET /cases/bulk/result": "staff",
    # directory: all staff read, supervisors change
    "GET /directory/": "staff",
    "GET /directory/<int:organisation_id>": "staff",
    "GET /directory/new": "supervisor",
    "POST /directory/new": "supervisor",
    "GET /directory/<int:organisation_id>/edit": "supervisor",
    "POST /directory/<int:organisation_id>/edit": "supervisor",
    "POST /directory/<int:organisation_id>/activate": "supervisor",
    "POST /directory/<int:organisation_id>/deactivate": "supervisor",
    "GET /directory/import": "supervisor",
    "POST /directory/import": "supervisor",
    "GET /directory/export.csv": "supervisor",
    # administration
    "GET /admin/users": "admin",
    "GET /admin/users/new": "admin",
    "POST /admin/users/new": "admin",
    "GET /admin/partners/new": "admin",
    "POST /admin/partners/new": "admin",
    "GET /admin/users/<int:user_id>": "admin",
    "POST /admin/users/<int:user_id>": "admin",
    "POST /admin/users/<int:user_id>/two-factor/reset": "admin",
    "POST /admin/users/<int:user_id>/tokens": "admin",
    "GET /admin/tokens": "admin",
    "GET /admin/tokens/<int:token_id>/revoke": "admin",
    "POST /admin/tokens/<int:token_id>/revoke": "admin",
    "GET /admin/audit/": "admin",
    # letters and alerts
    "GET /notices/": "supervisor",
    "GET /notices/<int:notice_id>/pdf": "staff",
    "POST /notices/export": "supervisor",
    "POST /notices/<int:notice_id>/delivered": "supervisor",
    "GET /notices/alerts": "supervisor",
    "POST /notices/alerts/<int:alert_id>/resolve": "supervisor",
    # e-mail delivery and notifications
    "GET /outbox/": "supervisor",
    "GET /outbox/manual": "supervisor",
    "POST /outbox/<int:message_id>/retry": "supervisor",
    "POST /outbox/<int:message_id>/confirm": "supervisor",
    "POST /outbox/<int:message_id>/cancel": "supervisor",
    "GET /notifications/": "staff",
    "POST /notifications/<int:notification_id>/read": "staff",
    "POST /notifications/read-all": "staff",
    # mail that came in: the supervisors' unmatched list, a reply from its case
    "GET /mail/unmatched": "supervisor",
    "GET /mail/<int:mail_id>": "supervisor",
    "POST /mail/<int:mail_id>/attach": "supervisor",
    "POST /mail/<int:mail_id>/discard": "supervisor",
    "GET /cases/<int:case_id>/replies/<int:mail_id>": "staff",
    # statistics
    "GET /stats/": "supervisor",
    "GET /stats/figures.csv": "supervisor",
    "POST /stats/cases.csv": "supervisor",
    "GET /stats/report.pdf": "supervisor",
    "GET /stats/reports/": "supervisor",
    "POST /stats/reports/": "supervisor",
    "GET /stats/reports/<month>.pdf": "supervisor",
    # the scheduled jobs' table
    "GET /system/": "supervisor",
    # API v1
    "GET /api/v1/openapi.json": "api-public",
    "POST /api/v1/reports": "api-partner",
    "GET /api/v1/submissions/<reference>": "api-partner",
    "GET /api/v1/cases": "api-staff",
    "GET /api/v1/cases/<int:case_id>": "api-partner",
    "POST /api/v1/cases/<int:case_id>/actions/<action>": "api-staff",
    "POST /api/v1/cases/<int:case_id>/notes": "api-staff",
    "POST /api/v1/cases/actions/<action>": "api-staff",
    "GET /api/v1/organizations": "api-staff",
    "POST /api/v1/organizations": "api-supervisor",
    # The roles of the web pages (/stats/, /notices/): analysts' tokens 403 since
    # issue 20; an analyst may list one case's letters (?case=, NEED_TO_KNOW).
    "GET /api/v1/stats": "api-supervisor",
    "GET /api/v1/notices": "api-supervisor",
    "GET /api/v1/notices/<int:notice_id>/pdf": "api-staff",
}


def _routes() -> list[str]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


ROUTES = _routes()


def test_every_access_kind_names_every_caller():
    for kind, answers in ACCESS.items():
        assert set(answers) == set(CALLERS), kind


@pytest.mark.parametrize("route", sorted(set(ROUTES) | set(PERMISSIONS)))
def test_route(app, make, route):
    if route not in PERMISSIONS:
        pytest.fail(f"add a row for {route} to PERMISSIONS (tests/test_permissions.py)")
    if route not in ROUTES:
        pytest.fail(f"PERMISSIONS has a row for {route}, which is no route: remove it")
    method, rule = route.split(" ", 1)
    expected = ACCESS[PERMISSIONS[route]]
    path = _concrete(rule, make)
    users = {role: make.user(role) for role in CALLERS[1:]}
    for caller in CALLERS:
        client = app.test_client()
        headers = {}
        if caller != "anonymous":
            if rule.startswith("/api/"):
                token = issue_token(db.session, users[caller], now=context.now())
                db.session.commit()
                headers["Authorization"] = f"Bearer {token}"
            elif caller == "partner":
                _refused_sign_in(client, users[caller])
            else:
                login(client, users[caller])
        response = client.open(path, method=method, headers=headers, data={})
        response.close()
        _check(route, caller, expected[caller], response)


def _refused_sign_in(client, partner) -> None:
    """A partner account tries the sign-in form: refused, it stays anonymous."""
    response = client.post("/login", data={"email": partner.email, "password": "x" * 12})
    assert response.status_code != 302, "a partner account signed in on the web"


def _concrete(rule: str, make) -> str:
    """The rule with its variables filled by objects that exist."""
    values = {
        "<int:case_id>": lambda: str(make.case("new").id),
        "<int:organisation_id>": lambda: str(make.organisation("hosting_provider").id),
        "<int:user_id>": lambda: str(make.user("analyst").id),
        "<int:token_id>": lambda: str(_token_id(make.user("analyst"))),
        "<action>": lambda: "assign",
        # Letters and alerts need not exist: every role check comes before the
        # look-up, and a 404 to an allowed caller counts as allowed.
        "<int:notice_id>": lambda: "1",
        "<int:alert_id>": lambda: "1",
        "<int:message_id>": lambda: "1",
        "<int:notification_id>": lambda: "1",
        # A link that does not work: the page answers 404 to everyone alike.
        "<token>": lambda: "A" * 43,
        "<int:mail_id>": lambda: "1",
        "<month>": lambda: "2026-10",  # a stored monthly report; none is: 404
        "<reference>": lambda: make.case("new").submission.reference,
        "<path:filename>": lambda: "css/app.css",
    }
    for variable, value in values.items():
        if variable in rule:
            rule = rule.replace(variable, value())
    assert "<" not in rule, f"no value for a variable of {rule}: add one to _concrete"
    return rule


def _token_id(user) -> int:
    issued = issue_api_token(
        db.session, user, label="matrix", actor=SYSTEM_ACTOR, now=context.now()
    )
    db.session.commit()
    return issued.token.id


def _check(route: str, caller: str, expected: str | int, response) -> None:
    status = response.status_code
    where = f"{route} as {caller}: {status} {response.location or ''}"
    to_login = status == 302 and (response.location or "").startswith("/login?next=")
    assert status < 500, where
    if expected == ALLOWED:
        assert status not in (401, 403) and not to_login, f"{where}, expected it to be allowed"
    elif expected == LOGIN:
        assert to_login, f"{where}, expected a redirect to the sign-in"
    else:
        assert status == expected, f"{where}, expected {expected}"
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- need-to-know: who among the staff, by their relation to a case (issue 20)

# Callers: the analyst the case is assigned to, another analyst, a supervisor, an
# admin. ALLOWED or 403; a bulk action answers 200 with a result per case, and
# its one case's result counts (ok, or the single action's 403 envelope).
RELATIONS = ("assignee", "colleague", "supervisor", "admin")
NEED_TO_KNOW: dict[str, tuple[str | int, ...]] = {
    "POST /cases/{id}/contact": (_, 403, _, _),
    "POST /cases/{id}/reporter-question": (_, 403, _, _),
    "POST /cases/{id}/actions/mark_duplicate": (_, 403, _, _),
    "POST /cases/{id}/actions/close_unavailable": (_, 403, _, _),
    "POST /api/v1/cases/{id}/actions/mark_duplicate": (_, 403, _, _),
    "POST /api/v1/cases/{id}/actions/close_unavailable": (_, 403, _, _),
    "POST /api/v1/cases/actions/mark_duplicate": (_, 403, _, _),
    "POST /api/v1/cases/actions/close_unavailable": (_, 403, _, _),
    # As the case page shows a case's letters to all staff.
    "GET /api/v1/notices?case={id}": (_, _, _, _),
}


def _held_case(make, assignee):
    """A case in triage held by ``assignee``, whose reporter left a contact."""
    case = make.report(reporter_contact="r@example.net").submission.cases[0]
    services.apply_action(
        db.session, case, "assign", {}, actor=assignee.actor, now=context.now(),
        timings=context.timings(),
    )  # fmt: skip
    db.session.commit()
    return case


@pytest.mark.parametrize("route", sorted(NEED_TO_KNOW))
def test_need_to_know(app, make, route):
    method, path = route.split(" ", 1)
    for relation, expected in zip(RELATIONS, NEED_TO_KNOW[route], strict=True):
        assignee = make.user("analyst")
        callers = {"assignee": assignee, "colleague": make.user("analyst")}
        callers |= {"supervisor": make.user("supervisor"), "admin": make.user("admin")}
        original = make.case("triage", by=assignee)
        case = _held_case(make, assignee)
        concrete = path.format(id=case.id)
        fields = {"duplicate_of": original.reference} if "mark_duplicate" in path else {}
        client = app.test_client()
        user = callers[relation]
        where = f"{route} as {relation}"
        if path.startswith("/api/"):
            token = issue_token(db.session, user, now=context.now())
            db.session.commit()
            headers = {"Authorization": f"Bearer {token}"}
            bulk = "/cases/actions/" in path
            body = {"case_ids": [case.id], **fields} if bulk else fields
            response = client.open(concrete, method=method, headers=headers, json=body)
            status = response.status_code
            if bulk:
                (result,) = response.json["results"]
                status = 200 if result["ok"] else {"forbidden": 403}.get(result["error"]["error"])
        else:
            login(client, user)
            action = path.rsplit("/", 1)[-1]
            data = {"contact-reason": "a call back"} if action == "contact" else {}
            if action == "reporter-question":  # a question needs the reporter's receipt
                code = new_receipt_code(ScryptParams(16, 1, 1))
                issue_receipt(db.session, case.submission, code, now=context.now())
                db.session.commit()
                data = {"question-body": "Which page?"}
            data |= {f"{action}-{name}": value for name, value in fields.items()}
            status = client.open(concrete, method=method, data=data).status_code
        db.session.refresh(case)
        closing = "/actions/" in path
        if expected == ALLOWED:
            assert status in (200, 303), f"{where}: {status}, expected it to be allowed"
            assert case.status == ("closed" if closing else "triage"), where
        else:
            assert status == expected, f"{where}: {status}, expected {expected}"
            assert case.status == "triage", where
