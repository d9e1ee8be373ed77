"""CSV import and export of the directory (layout: docs/directory-csv.md)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import delete, func, select

from casemgr import context
from casemgr.audit.models import AuditEntry
from casemgr.directory import inputs, operations
from casemgr.directory.csvio import COLUMNS, ImportFailed, export_csv, import_csv
from casemgr.directory.models import Organisation, OrganisationDomain, OrganisationNetwork
from casemgr.domain import SYSTEM_ACTOR
from casemgr.extensions import db

HEADER = ",".join(COLUMNS)


def run_import(data, *, dry_run=False):
    result = import_csv(
        db.session, data, now=context.now(), actor=SYSTEM_ACTOR, source="test", dry_run=dry_run
    )
    db.session.commit()
    return result


def refused(data) -> list[str]:
    with pytest.raises(ImportFailed) as failure:
        run_import(data)
    db.session.rollback()
    return [str(problem) for problem in failure.value.problems]


def export() -> str:
    text = export_csv(db.session, now=context.now(), actor=SYSTEM_ACTOR, source="test")
    db.session.commit()
    return text


def snapshot(*, with_ids=True) -> list[tuple]:
    db.session.expire_all()
    rows = []
    for o in db.session.scalars(select(Organisation).order_by(Organisation.id)):
        rows.append(
            ((o.id,) if with_ids else ())
            + (o.kind, o.name, o.country, o.email, o.language, o.active, o.address, o.notes)
            + (tuple(sorted(o.domain_names)), tuple(sorted(o.cidrs)))
        )
    return rows


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organisation))


@pytest.fixture
def a_directory(app, make):
    make.organisation(
        "hosting_provider",
        name='Host "Quoted", Ltd',
        domains="example.com example.net",
        networks="192.0.2.0/24 2001:db8::/32",
    )
    make.organisation("registrar", name="Registrar", domains="example.org", country="DE")
    make.organisation("hotline", name="ហតឡាញ Partner", country="KH", email="h@hotline.example.org")
    make.organisation("police", name="International Channel", country=None, email=None)
    gone = make.organisation("hotline", name="Old Partner", country="FR")
    gone.address = "1 Example Street\nExample City, 12345"
    gone.notes = "Closed down; use the FR police."
    gone.language = "fr"
    operations.set_active(db.session, gone, False, now=context.now(), actor=SYSTEM_ACTOR)
    db.session.commit()


# --- round trip


def test_export_has_every_organisation_and_a_bom(a_directory):
    text = export()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [row["name"] for row in rows][0] == 'Host "Quoted", Ltd'
    assert len(rows) == 5
    assert rows[0]["domains"] == "example.com example.net"
    assert rows[0]["networks"] == "192.0.2.0/24 2001:db8::/32"
    assert rows[4]["active"] == "no"
    assert rows[4]["address"] == "1 Example Street\nExample City, 12345"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "directory.export"))
    assert entry.details == {"organisations": 5, "source": "test"}


def test_export_then_import_changes_nothing(a_directory):
    before = snapshot()
    result = run_import(export().encode("utf-8-sig"))
    assert (result.rows, result.created, result.updated, result.unchanged) == (5, [], [], 5)
    assert snapshot() == before


def test_import_of_an_export_restores_the_directory(a_directory):
    before = snapshot()
    exported = export()
    host = db.session.scalar(select(Organisation).where(Organisation.kind == "hosting_provider"))
    operations.update_organisation(
        db.session,
        host,
        inputs.input_from(host, email="changed@example.com", networks="198.51.100.0/24"),
        now=context.now(),
        actor=SYSTEM_ACTOR,
    )
    operations.set_active(db.session, host, False, now=context.now(), actor=SYSTEM_ACTOR)
    db.session.commit()
    assert snapshot() != before
    result = run_import(exported.encode("utf-8-sig"))
    assert result.updated == ['Host "Quoted", Ltd']
    assert snapshot() == before


def test_export_without_ids_builds_the_same_directory_elsewhere(a_directory):
    before = snapshot(with_ids=False)
    rows = list(csv.reader(io.StringIO(export(), newline="")))
    without_ids = io.StringIO(newline="")
    csv.writer(without_ids).writerows([row[1:] for row in rows])
    # A fresh directory (the audit log is append-only: it stays).
    for model in (OrganisationDomain, OrganisationNetwork, Organisation):
        db.session.execute(delete(model))
    db.session.commit()
    result = run_import(without_ids.getvalue())
    assert len(result.created) == 5
    assert snapshot(with_ids=False) == before


def test_import_is_audited_per_organisation_and_as_a_whole(app):
    run_import(f"{HEADER}\n,hotline,Partner,DE,p@example.org,de,,,,,\n")
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["organisation.create", "directory.import"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "directory.import"))
    assert entry.details == {
        "rows": 1,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "source": "test",
    }


def test_dry_run_reports_and_saves_nothing(a_directory):
    text = export().replace("example.net", "example.info") + (
        ",hotline,New Partner,US,n@example.org,en,yes,,,,\r\n"
    )
    result = run_import(text, dry_run=True)
    assert (result.created, result.updated, result.unchanged) == (
        ["New Partner"],
        ['Host "Quoted", Ltd'],
        4,
    )
    assert count() == 5
    assert "would be" in result.summary()


# --- the file's shape


def test_bom_and_windows_line_endings(app):
    data = (
        "\ufeffkind,name,country,email,language,domains,networks\r\n"
        "hosting_provider,Host,KH,abuse@example.com,en,example.com;example.net,192.0.2.0/24\r\n"
        "\r\n"
        "police,Channel,,,en,,\r\n"
    ).encode()
    result = run_import(data)
    assert result.created == ["Host", "Channel"]
    host = db.session.scalar(select(Organisation).where(Organisation.name == "Host"))
    assert sorted(host.domain_names) == ["example.com", "example.net"]
    assert host.name == "Host"  # the BOM did not stick to the first column


def test_columns_in_any_order_and_any_case(app):
    run_import("Networks, NAME ,kind,country,email,language,domains\n,Host,registrar,KH,,km,\n")
    assert db.session.scalar(select(Organisation.language)) == "km"


def test_unknown_columns_are_named(app):
    problems = refused("kind,name,country,e-mail,language,domains,networks,colour\nx\n")
    assert problems[0].startswith("line 1: unknown column(s): 'e-mail', 'colour'")
    assert "missing column(s): email" in problems[1]


def test_missing_columns_are_named(app):
    problems = refused("kind,name,email\nhotline,Partner,p@example.org\n")
    assert problems == [
        "line 1: missing column(s): country, language, domains, networks; expected columns: "
        "id, kind, name, country, email, language, active, domains, networks, address, notes "
        "(id, active, address, notes optional)"
    ]


def test_a_column_given_twice(app):
    problems = refused("kind,name,name,country,email,language,domains,networks\n")
    assert "column(s) given twice: name" in problems[0]


def test_semicolon_separated_file_is_explained(app):
    problems = refused("kind;name;country;email;language;domains;networks\nhotline;A;DE;;en;;\n")
    assert "separated by ';'" in problems[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf \r\n", "the file is empty"),
        (HEADER.encode() + b"\r\n\r\n", "the file has a header but no rows"),
        (HEADER.encode() + b"\n,hotline,Caf\xe9,FR,,fr,,,,,\n", "not UTF-8"),
    ],
)
def test_files_that_are_not_a_directory(app, data, message):
    assert message in refused(data)[0]


def test_rows_with_the_wrong_number_of_values(app):
    problems = refused(
        "kind,name,country,email,language,domains,networks\n"
        "hotline,Partner,DE,p@example.org,de,,\n"
        "hotline,Partner, Inc,US,p@example.org,en,,\n"
        "hotline,Short\n"
    )
    assert problems == [
        "line 3: has 8 value(s) but the header has 7 column(s) "
        "(a value holding a comma must be in double quotes)",
        "line 4: has 2 value(s) but the header has 7 column(s) "
        "(a value holding a comma must be in double quotes)",
    ]
    assert count() == 0


def test_broken_quoting(app):
    problems = refused('kind,name,country,email,language,domains,networks\nhotline,"A"B,DE,,,,\n')
    assert problems[0].startswith("line 2: not readable as CSV")


# --- the rows


def test_every_bad_row_is_reported_by_line_and_nothing_is_saved(app):
    data = (
        f"{HEADER}\n"
        ",hotline,Good Partner,DE,p@example.org,de,yes,,,,\n"  # line 2: fine
        ",hosting_provider,Bad Mail,KH,not-an-address,en,,,,,\n"  # 3
        ",hosting_provider,Bad Net,KH,,en,,,10.0.0.1/33,,\n"  # 4
        ',hosting_provider,"Bad Lines, across",KH,,en,,,,"an address\n'
        'on two lines",\n'  # 5-6
        ",hosting_provider,Host Bits,KH,,en,,,10.0.0.1/24,,\n"  # 7
        ",hosting_provider,Bad Domain,KH,,en,,http://example.com/x,,,\n"  # 8
        ",police,Bad Country,XX,,en,,,,,\n"  # 9
        ",isp,Bad Kind,KH,,en,,,,,\n"  # 10
        ",hotline,Bad Active,KH,,en,perhaps,,,,\n"  # 11
        "x1,hotline,Bad Id,KH,,en,,,,,\n"  # 12
        "999,hotline,Missing Id,KH,,en,,,,,\n"  # 13
        ",hotline,,KH,,en,,,,,\n"  # 14
        ",hotline,Bad Language,KH,,xx,,,,,\n"  # 15
    )
    problems = refused(data)
    lines = [int(problem.split(":")[0].removeprefix("line ")) for problem in problems]
    assert lines == [3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    text = "\n".join(problems)
    assert "line 3: email: 'not-an-address' is not an e-mail address" in text
    assert "line 4: networks: '10.0.0.1/33' is not an IP network in CIDR notation" in text
    assert "line 7: networks: '10.0.0.1/24' has host bits set: the network is 10.0.0.0/24" in text
    assert "line 8: domains: 'http://example.com/x' is not a domain name" in text
    assert "line 9: country: 'XX' is not an ISO 3166-1 alpha-2 country code" in text
    assert "line 10: kind: must be one of" in text
    assert "line 11: active: 'perhaps' must be yes or no" in text
    assert "line 12: id: 'x1' is not an organisation id" in text
    assert "line 13: id: no organisation has id 999" in text
    assert "line 14: name: is required" in text
    assert "line 15: language: must be one of" in text
    assert count() == 0  # not even the good row


def test_a_row_with_several_bad_fields_reports_each(app):
    problems = refused(f"{HEADER}\n,hotline,A,XX,bad,en,,example.com,192.0.2.0/24,,\n")
    assert [p.split(":")[1].strip() for p in problems] == [
        "country",
        "email",
        "domains",
        "networks",
    ]


def test_duplicates_in_the_file_name_both_lines(app):
    problems = refused(
        f"{HEADER}\n"
        ",hotline,Partner DE,DE,,de,,,,,\n"
        ",police,Partner DE,DE,,de,,,,,\n"  # another kind: fine
        ",hotline,PARTNER de ,de,,de,,,,,\n"
    )
    assert problems == ["line 4: hotline 'PARTNER de' (DE) is on line 2 already"]


def test_duplicate_of_an_organisation_in_the_directory_without_id(app, make):
    existing = make.organisation("hotline", name="Partner DE", country="DE")
    problems = refused(f"{HEADER}\n,hotline,partner de,DE,,de,,,,,\n")
    assert problems == [
        f"line 2: a hotline named 'Partner DE' in DE exists already (id {existing.id}); "
        f"put {existing.id} in the id column to update it"
    ]


def test_a_row_with_id_updates_that_organisation(app, make):
    existing = make.organisation("hotline", name="Partner DE", country="DE")
    result = run_import(
        f"id,kind,name,country,email,language,domains,networks\n"
        f"{existing.id},hotline,Partner Germany,DE,new@example.org,de,,\n"
    )
    assert result.updated == ["Partner Germany"]
    db.session.expire_all()
    stored = db.session.get(Organisation, existing.id)
    assert (stored.name, stored.email, stored.language) == (
        "Partner Germany",
        "new@example.org",
        "de",
    )
    assert stored.active  # no active column: left as it was
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "organisation.update"))
    assert entry.details["source"] == "import"
    assert entry.details["changes"]["name"] == ["Partner DE", "Partner Germany"]


def test_an_update_may_not_take_the_name_of_another(app, make):
    one = make.organisation("hotline", name="One", country="DE")
    two = make.organisation("hotline", name="Two", country="DE")
    problems = refused(f"{HEADER}\n{two.id},hotline,one,DE,,en,,,,,\n")
    assert problems == [f"line 2: a hotline named 'One' in DE exists already (id {one.id})"]


def test_names_may_be_swapped_in_one_file(app, make):
    one = make.organisation("hotline", name="One", country="DE")
    two = make.organisation("hotline", name="Two", country="DE")
    run_import(f"{HEADER}\n{one.id},hotline,Two,DE,,en,,,,,\n{two.id},hotline,One,DE,,en,,,,,\n")
    db.session.expire_all()
    assert db.session.get(Organisation, one.id).name == "Two"
    assert db.session.get(Organisation, two.id).name == "One"


def test_the_same_id_twice(app, make):
    one = make.organisation("hotline", name="One", country="DE")
    problems = refused(
        f"{HEADER}\n{one.id},hotline,One,DE,,en,,,,,\n{one.id},hotline,Uno,DE,,en,,,,,\n"
    )
    assert problems == [f"line 3: id: {one.id} is on line 2 already"]


def test_kind_cannot_change_while_cases_name_it(app, make):
    case = make.case("notice_pending")
    provider = case.provider
    problems = refused(f"{HEADER}\n{provider.id},registrar,{provider.name},KH,,en,,,,,\n")
    assert problems == [
        "line 2: kind: cannot change from hosting_provider to registrar: "
        "1 case(s) name this organisation"
    ]


# --- the command line


def test_cli_import_and_export(a_directory, runner, tmp_path):
    path = tmp_path / "directory.csv"
    result = runner.invoke(args=["directory", "export", str(path)])
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,kind,name")
    assert b"\r\n" in data

    text = data.decode("utf-8-sig") + ",hotline,Partner US,US,us@example.org,en,yes,,,,\r\n"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(args=["directory", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "nothing saved" in result.output
    assert "1 would be added" in result.output
    assert count() == 5

    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 were added, 0 were changed, 5 unchanged" in result.output
    assert count() == 6


def test_cli_import_refuses_a_bad_file_and_lists_every_problem(app, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\n,hotline,A,XX,,en,,,,,\n,hotline,B,KH,,en,,,10.0.0.1/33,,\n")
    result = runner.invoke(args=["directory", "import", str(path)])
    assert result.exit_code == 1
    assert "nothing saved" in result.output
    assert "line 2: country:" in result.output
    assert "line 3: networks:" in result.output
    assert count() == 0


def test_cli_export_to_standard_output(a_directory, runner):
    result = runner.invoke(args=["directory", "export", "-"])
    assert result.exit_code == 0
    assert result.output.startswith("id,kind,name,")
