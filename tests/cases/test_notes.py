"""Case notes: the service (casemgr/cases/notes.py), the case page's form and
history (note_views.py), and POST /api/v1/cases/<id>/notes."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import event, func, select, update

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.auth.models import User
from casemgr.cases import notes
from casemgr.cases import services as cases
from casemgr.cases.models import Case, CaseNote
from casemgr.domain import SYSTEM_ACTOR, Actor, Role
from casemgr.errors import PermissionDenied, ValidationFailed
from casemgr.extensions import db
from tests.conftest import login

CALL = "Phoned the provider's abuse desk: they will remove it today.\nTicket 4471."

# (what is sent, why it is refused); each answer names `body`.
BAD_TEXT = [
    pytest.param("", id="empty"),
    pytest.param("  \n\t \r\n ", id="blank"),
    pytest.param("x" * (notes.MAX_NOTE_LENGTH + 1), id="4001 characters"),
    pytest.param("before\x00after", id="NUL"),
    pytest.param("colour \x1b[31mred", id="escape"),
    pytest.param("bell\x07", id="bell"),
    pytest.param("delete\x7fme", id="DEL"),
    pytest.param("next\x85line", id="C1 control"),
    pytest.param("vertical\x0btab", id="vertical tab"),
]


def note_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseNote)) or 0


def note_audits() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.note")))


def add(case: Case, body: str, actor: Actor) -> CaseNote:
    note = notes.add_note(db.session, case, body, actor=actor, now=context.now())
    db.session.commit()
    return note


class TestTheService:
    def test_a_note_is_kept_with_its_author_and_time(self, make, analyst):
        case = make.case("triage")
        note = add(case, CALL, analyst.actor)
        db.session.expire_all()
        stored = db.session.get(Case, case.id).notes
        assert [n.id for n in stored] == [note.id]
        assert stored[0].body == CALL
        assert stored[0].author.id == analyst.id
        assert stored[0].created_at == context.now()

    def test_line_breaks_are_kept_and_the_ends_stripped(self, make, analyst):
        note = add(make.case("new"), "  \r\nfirst\r\n\tsecond\rthird \n\n", analyst.actor)
        assert note.body == "first\n\tsecond\nthird"

    def test_4000_characters_are_accepted_counted_after_stripping(self, make, analyst):
        text = "é" * notes.MAX_NOTE_LENGTH
        note = add(make.case("new"), f"\n  {text}  \n", analyst.actor)
        assert note.body == text

    def test_a_browsers_line_break_counts_once(self, make, analyst):
        text = "ab\r\n" * (notes.MAX_NOTE_LENGTH // 3)  # 4000 with "\n", 5332 with "\r\n"
        assert len(add(make.case("new"), text, analyst.actor).body) <= notes.MAX_NOTE_LENGTH

    @pytest.mark.parametrize("body", BAD_TEXT)
    def test_bad_text_is_refused_naming_body(self, make, analyst, body):
        case = make.case("new")
        with pytest.raises(ValidationFailed) as refused:
            notes.add_note(db.session, case, body, actor=analyst.actor, now=context.now())
        assert list(refused.value.fields) == ["body"]
        db.session.rollback()
        assert note_count() == 0 and note_audits() == []

    @pytest.mark.parametrize("body", [None, 42, ["a note"], {"body": "a note"}, b"bytes"])
    def test_what_is_not_text_is_refused_naming_body(self, make, analyst, body):
        with pytest.raises(ValidationFailed) as refused:
            notes.add_note(
                db.session, make.case("new"), body, actor=analyst.actor, now=context.now()
            )
        assert list(refused.value.fields) == ["body"]

    def test_an_unpaired_surrogate_is_refused(self, make, analyst):
        with pytest.raises(ValidationFailed):
            notes.add_note(
                db.session, make.case("new"), "half \ud800", actor=analyst.actor, now=context.now()
            )

    def test_too_long_and_control_characters_are_both_named(self, make, analyst):
        with pytest.raises(ValidationFailed) as refused:
            notes.add_note(
                db.session, make.case("new"), "\x00" + "x" * 4000, actor=analyst.actor,
                now=context.now(),
            )  # fmt: skip
        assert len(refused.value.fields["body"]) == 2
        assert "4,000" in refused.value.fields["body"][0]

    @pytest.mark.parametrize("role", ["analyst", "supervisor", "admin"])
    def test_any_member_of_staff_may_add_one(self, make, role):
        author = make.user(role)
        assert add(make.case("triage"), "Checked.", author.actor).author_id == author.id

    @pytest.mark.parametrize(
        "actor", [SYSTEM_ACTOR, Actor(id=None, role=Role.ANALYST)], ids=["system", "no account"]
    )
    def test_who_is_not_staff_may_not(self, make, actor):
        with pytest.raises(PermissionDenied):
            notes.add_note(db.session, make.case("new"), CALL, actor=actor, now=context.now())
        assert note_count() == 0

    def test_a_closed_case_takes_notes_too(self, make, analyst):
        assert add(make.case("closed"), "Provider called back.", analyst.actor).id

    def test_a_note_leaves_the_case_as_it_was(self, make, analyst):
        case = make.case("triage")
        before = (case.version, case.status, case.updated_at, len(case.events))
        add(case, CALL, analyst.actor)
        db.session.expire_all()
        case = db.session.get(Case, case.id)
        assert (case.version, case.status, case.updated_at, len(case.events)) == before

    def test_each_note_is_audited_without_its_text(self, make, analyst):
        case = make.case("new")
        note = add(case, CALL, analyst.actor)
        [entry] = note_audits()
        assert (entry.actor_id, entry.target_type, entry.target_id) == (
            analyst.id, "case", str(case.id),
        )  # fmt: skip
        assert entry.details == {
            "reference": case.reference,
            "note_id": note.id,
            "length": len(CALL),
            "sha256": hashlib.sha256(CALL.encode()).hexdigest(),
        }
        assert "Ticket" not in json.dumps(entry.details)

    def test_a_note_is_never_changed_or_deleted(self, make, analyst):
        note = add(make.case("new"), CALL, analyst.actor)
        note.body = "Something else"
        with pytest.raises(RuntimeError, match="never changed"):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(CaseNote, note.id))
        with pytest.raises(RuntimeError, match="never changed"):
            db.session.flush()
        db.session.rollback()
        assert db.session.get(CaseNote, note.id).body == CALL

    def test_notes_for_case_oldest_first(self, make, analyst, clock):
        case, other = make.case("new"), make.case("new")
        first = add(case, "first", analyst.actor)
        clock.advance(minutes=5)
        add(other, "elsewhere", analyst.actor)
        second = add(case, "second", analyst.actor)
        assert [n.id for n in notes.notes_for_case(db.session, case.id)] == [first.id, second.id]

    def test_notes_for_many_cases_in_two_statements(self, app, make, analyst):
        many = [make.case("new") for _ in range(5)]
        for number, case in enumerate(many):
            for _ in range(number):
                add(case, f"note on {case.reference}", make.user("analyst").actor)
        ids = [case.id for case in many]
        db.session.expire_all()
        statements = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            found = notes.notes_for_cases(db.session, [*ids, ids[0]])
            authors = {n.author.name for listed in found.values() for n in listed}
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert [len(found[case_id]) for case_id in ids] == [0, 1, 2, 3, 4]
        assert len(authors) == 10
        assert len(statements) == 2

    def test_no_case_ids_ask_nothing(self):
        assert notes.notes_for_cases(db.session, []) == {}

    def test_the_history_puts_events_and_notes_together_newest_first(self, make, analyst, clock):
        case = make.case("new")  # received a day ago
        add(case, "before taking it", analyst.actor)
        clock.advance(minutes=1)
        cases.apply_action(
            db.session, case, "assign", {}, actor=analyst.actor, now=context.now(),
            timings=context.timings(),
        )  # fmt: skip
        add(case, "at the same moment as taking it", analyst.actor)
        entries = notes.history(case.events, case.notes)
        assert [(e.kind, getattr(e.item, "action", None)) for e in entries] == [
            ("note", None),
            ("event", "assign"),
            ("note", None),
            ("event", "receive"),
        ]
        assert entries[0].item.body == "at the same moment as taking it"


# --- the case page


def post_note(client, case_id: int, body: str | None):
    return client.post(f"/cases/{case_id}/notes", data={} if body is None else {"body": body})


class TestThePage:
    def test_a_note_is_added_and_the_page_shows_it_in_the_history(self, client, make, analyst):
        case = make.case("triage")
        login(client, analyst)
        response = post_note(client, case.id, CALL + "\n<script>alert(1)</script>")
        assert response.status_code == 302
        assert response.location.endswith(f"/cases/{case.id}#history")
        page = client.get(response.location).get_data(as_text=True)
        assert "Note added." in page
        history = page[page.index('id="history"') :]
        assert '<li class="note">' in history
        assert analyst.name in history
        assert context.now().strftime("%Y-%m-%d %H:%M") in history
        body = history.split('<div class="note-body prewrap">')[1].split("</div>")[0]
        assert "abuse desk: they will remove it today.\nTicket 4471." in body  # .prewrap shows it
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<script>alert" not in page
        assert note_audits()[0].actor_id == analyst.id

    def test_notes_and_events_share_one_timeline_with_plain_words(
        self, client, make, analyst, clock
    ):
        case = make.case("triage", by=analyst)  # received, then assigned 10 minutes later
        clock.advance(minutes=1)
        add(case, "Called the police liaison.", analyst.actor)
        page = login(client, analyst).get(f"/cases/{case.id}").get_data(as_text=True)
        history = page[page.index('id="history"') :]
        # newest first: the note, then the assignment, then the receipt
        assert (
            history.index("Called the police liaison.")
            < history.index("<strong>Assign</strong>")
            < history.index("<strong>Report received</strong>")
        )
        assert "<strong>Note</strong>" in history
        assert "New → In triage" in history and "new → triage" not in history

    def test_the_form_is_in_the_history_and_has_no_inline_script(self, client, make, analyst):
        case = make.case("new")
        page = login(client, analyst).get(f"/cases/{case.id}").get_data(as_text=True)
        history = page[page.index('id="history"') :]
        assert f'action="/cases/{case.id}/notes#add-note"' in history
        assert 'name="body"' in history and 'name="csrf_token"' in history
        assert "4000 characters" in history

    @pytest.mark.parametrize("body", BAD_TEXT)
    def test_a_refused_note_reshows_the_page_with_the_text_and_the_error(
        self, client, make, analyst, body
    ):
        case = make.case("triage")
        login(client, analyst)
        response = post_note(client, case.id, body)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        form = page[page.index('id="add-note"') :]
        assert 'aria-invalid="true"' in form and 'class="error" role="alert"' in form
        kept = notes.printable(body).strip()
        if kept:
            assert kept[:50] in form
        assert "\x00" not in page and "\x1b" not in page
        assert note_count() == 0 and note_audits() == []

    def test_a_form_without_the_field_is_refused_the_same_way(self, client, make, analyst):
        case = make.case("new")
        response = post_note(login(client, analyst), case.id, None)
        assert response.status_code == 422
        assert "it is empty" in response.get_data(as_text=True)

    def test_the_page_says_the_length_and_keeps_the_long_text(self, client, make, analyst):
        case = make.case("new")
        text = "word " * 900  # 4,500 characters
        response = post_note(login(client, analyst), case.id, text)
        page = response.get_data(as_text=True)
        assert "at most 4,000 characters; this one has 4,499" in page
        assert text.strip() in page

    @pytest.mark.parametrize("case_id", [999, 2**40])
    def test_an_unknown_case_is_404(self, client, make, analyst, case_id):
        make.case("new")
        response = post_note(login(client, analyst), case_id, CALL)
        assert response.status_code == 404
        assert note_count() == 0

    def test_there_is_no_way_to_edit_or_delete_a_note(self, app, client, make, analyst):
        case = make.case("new")
        add(case, CALL, analyst.actor)
        login(client, analyst)
        for method in ("PUT", "PATCH", "DELETE"):
            assert client.open(f"/cases/{case.id}/notes", method=method).status_code == 405
        note_rules = [r for r in app.url_map.iter_rules() if "notes" in r.rule]
        assert {(r.rule, m) for r in note_rules for m in r.methods - {"OPTIONS"}} == {
            ("/cases/<int:case_id>/notes", "POST"),
            ("/api/v1/cases/<int:case_id>/notes", "POST"),
        }


class TestWhoMayAddOne:
    def test_anonymous_is_sent_to_sign_in(self, client, make):
        case = make.case("new")
        response = post_note(client, case.id, CALL)
        assert response.status_code == 302 and "/login" in response.location
        assert note_count() == 0

    def test_a_deactivated_account_cannot(self, client, make, analyst):
        case = make.case("new")
        login(client, analyst)
        analyst.active = False
        db.session.commit()
        response = post_note(client, case.id, CALL)
        assert response.status_code in (302, 403)
        assert note_count() == 0

    def test_an_account_that_is_not_staff_is_refused(self, client, make, analyst):
        case = make.case("new")
        login(client, analyst)
        # No screen makes such an account; a role from elsewhere must not pass.
        db.session.execute(update(User).where(User.id == analyst.id).values(role="system"))
        db.session.commit()
        assert post_note(client, case.id, CALL).status_code == 403
        assert note_count() == 0

    @pytest.mark.parametrize("role", ["supervisor", "admin"])
    def test_supervisors_and_admins_may(self, client, make, role):
        case = make.case("new")
        response = post_note(login(client, make.user(role)), case.id, CALL)
        assert response.status_code == 302
        assert note_count() == 1


class TestCsrf:
    def test_a_note_without_the_token_is_refused(self, app, client, make, analyst):
        case = make.case("new")
        login(client, analyst)
        app.config["WTF_CSRF_ENABLED"] = True
        response = post_note(client, case.id, CALL)
        assert response.status_code == 400
        assert note_count() == 0

    def test_the_form_carries_a_token_that_works(self, app, client, make, analyst):
        case = make.case("new")
        login(client, analyst)
        app.config["WTF_CSRF_ENABLED"] = True
        page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        form = page[page.index('id="add-note"') :]
        token = form.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post(f"/cases/{case.id}/notes", data={"body": CALL, "csrf_token": token})
        assert response.status_code == 302
        assert note_count() == 1


# --- the API


def api_note(client, case_id: int, body=None, **kwargs):
    return client.post(f"/api/v1/cases/{case_id}/notes", json=body, **kwargs)


class TestTheApi:
    def test_a_note_is_201_with_the_note(self, as_analyst, analyst, make):
        case = make.case("triage")
        response = api_note(as_analyst, case.id, {"body": f"  {CALL}\n"})
        assert response.status_code == 201
        note = db.session.scalar(select(CaseNote))
        assert response.json == {
            "id": note.id,
            "body": CALL,
            "author": {"id": analyst.id, "name": analyst.name},
            "created_at": context.now().isoformat(),
        }
        assert response.json["created_at"].endswith("+00:00")
        [entry] = note_audits()
        assert entry.details["note_id"] == note.id and entry.actor_id == analyst.id

    def test_the_case_lists_its_notes_newest_last(self, as_analyst, as_supervisor, make, clock):
        case = make.case("triage")
        first = api_note(as_analyst, case.id, {"body": "first"}).json
        clock.advance(minutes=3)
        second = api_note(as_supervisor, case.id, {"body": "second"}).json
        response = as_analyst.get(f"/api/v1/cases/{case.id}")
        assert response.json["notes"] == [first, second]

    def test_a_case_without_notes_has_an_empty_list(self, as_analyst, make):
        case = make.case("new")
        assert as_analyst.get(f"/api/v1/cases/{case.id}").json["notes"] == []

    def test_an_action_answers_with_the_notes_too(self, as_analyst, analyst, make):
        case = make.case("new")
        api_note(as_analyst, case.id, {"body": "Looked at it."})
        response = as_analyst.post(f"/api/v1/cases/{case.id}/actions/assign", json={})
        assert [n["body"] for n in response.json["notes"]] == ["Looked at it."]

    def test_a_note_does_not_make_a_version_stale(self, as_analyst, make):
        case = make.case("new")
        version = as_analyst.get(f"/api/v1/cases/{case.id}").json["version"]
        api_note(as_analyst, case.id, {"body": "Looked at it."})
        response = as_analyst.post(
            f"/api/v1/cases/{case.id}/actions/assign", json={"version": version}
        )
        assert response.status_code == 200

    @pytest.mark.parametrize(
        "body",
        [
            *BAD_TEXT,
            pytest.param(42, id="number"),
            pytest.param(True, id="boolean"),
            pytest.param(["a note"], id="list"),
            pytest.param({"text": "a note"}, id="object"),
            pytest.param(None, id="null"),
        ],
    )
    def test_a_bad_body_is_422_naming_it(self, as_analyst, make, body):
        case = make.case("new")
        response = api_note(as_analyst, case.id, {"body": body})
        assert response.status_code == 422
        assert response.json["error"] == "validation"
        assert list(response.json["fields"]) == ["body"]
        assert note_count() == 0 and note_audits() == []

    @pytest.mark.parametrize("sent", [{}, None], ids=["empty object", "no body at all"])
    def test_a_missing_body_is_422_naming_it(self, as_analyst, make, sent):
        case = make.case("new")
        response = api_note(as_analyst, case.id, sent)
        assert response.status_code == 422
        assert response.json["fields"] == {"body": ["is required"]}

    def test_an_unpaired_surrogate_is_422(self, as_analyst, make):
        case = make.case("new")
        response = as_analyst.post(
            f"/api/v1/cases/{case.id}/notes",
            data=b'{"body": "half \\ud800"}',
            content_type="application/json",
        )
        assert response.status_code == 422
        assert list(response.json["fields"]) == ["body"]

    def test_another_field_is_422_naming_it(self, as_analyst, make):
        case = make.case("new")
        response = api_note(as_analyst, case.id, {"body": CALL, "author_id": 1})
        assert response.status_code == 422
        assert list(response.json["fields"]) == ["author_id"]
        assert note_count() == 0

    @pytest.mark.parametrize("case_id", [999, 2**31, 2**40])
    def test_an_unknown_case_is_404(self, as_analyst, make, case_id):
        make.case("new")
        response = api_note(as_analyst, case_id, {"body": CALL})
        assert response.status_code == 404
        assert response.json["error"] == "not_found"
        assert note_count() == 0

    def test_the_body_is_read_after_the_case_is_found(self, as_analyst):
        response = api_note(as_analyst, 999, {"body": ""})
        assert response.status_code == 404

    @pytest.mark.parametrize("caller", ["as_supervisor", "as_admin"])
    def test_supervisors_and_admins_may(self, request, make, caller):
        case = make.case("new")
        assert api_note(request.getfixturevalue(caller), case.id, {"body": CALL}).status_code == 201

    def test_without_a_token_it_is_401(self, anonymous, make):
        case = make.case("new")
        response = api_note(anonymous, case.id, {"body": CALL})
        assert response.status_code == 401
        assert note_count() == 0

    def test_a_deactivated_accounts_token_is_401(self, as_analyst, analyst, make):
        case = make.case("new")
        analyst.active = False
        db.session.commit()
        assert api_note(as_analyst, case.id, {"body": CALL}).status_code == 401
        assert note_count() == 0

    def test_an_account_that_is_not_staff_is_403(self, as_analyst, analyst, make):
        case = make.case("new")
        db.session.execute(update(User).where(User.id == analyst.id).values(role="system"))
        db.session.commit()
        response = api_note(as_analyst, case.id, {"body": CALL})
        assert response.status_code == 403
        assert response.json["error"] == "forbidden"
        assert note_count() == 0

    def test_a_note_whose_authors_account_is_gone_has_no_author(self, as_analyst, make):
        case = make.case("new")
        api_note(as_analyst, case.id, {"body": CALL})
        # What ON DELETE SET NULL leaves when an account row is deleted.
        db.session.execute(update(CaseNote).values(author_id=None))
        db.session.commit()
        response = as_analyst.get(f"/api/v1/cases/{case.id}")
        assert response.json["notes"][0]["author"] is None


def test_the_note_form_and_the_api_agree_on_the_limit(document):
    schema = document["paths"]["/api/v1/cases/{case_id}/notes"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    assert schema["properties"]["body"]["maxLength"] == notes.MAX_NOTE_LENGTH
    assert schema["required"] == ["body"]
