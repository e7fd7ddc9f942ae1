"""The operator's log (assessments.oplog): one `key=value` line on standard error per change and
per sign-in, naming the fields changed but never their values, and nobody by name or e-mail."""
from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assessments import access as A
from assessments import oplog, people, ratings
from assessments import organisations as orgs
from assessments import workshop as ws
from assessments.access import Grant, Principal
from assessments.store import Store
from assessments.values import ConflictError

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z pid=(\d+) level=INFO event=(\S+) (.*)")
LEAD = Principal("0f3e9a77-lead", "Dr Lee Lead", "lee.lead@nhs.net", (Grant(A.LEAD, pcn_code="U90001"),))
TYPED = "Board minutes 3 March, signed by Dr Lee Lead"


def parse(text: str) -> list[dict[str, str]]:
    """The log lines in text, as dicts; every line of it must be one."""
    out = []
    for line in text.splitlines():
        m = LINE.fullmatch(line)
        assert m, f"not a log line: {line!r}"
        fields = dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', m.group(3)))
        out.append({"pid": m.group(1), "event": m.group(2), **{k: v.strip('"') for k, v in fields.items()}})
    return out


@pytest.fixture
def store(tmp_path, small_matrix):
    s = Store(f"sqlite:///{tmp_path / 'log.db'}", matrices=[small_matrix])
    orgs.add_ics(s, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(s, "U90001", "Test PCN", ics_code="QZZ", list_size=10_000, by="setup")
    yield s
    s.close()


def test_a_change_is_one_line_with_the_fields_names_and_none_of_the_typed_text(store, small_matrix, capsys):
    a = ratings.create_assessment(store, "U90001", "2024/25", small_matrix, by="setup")
    capsys.readouterr()
    ratings.save_rating(store.acting(LEAD), a.id, "governance", expected_version=0, current_stage="developing",
                        evidence=TYPED, note="Private note")
    err = capsys.readouterr().err
    [line] = parse(err)
    assert line == {"pid": str(os.getpid()), "event": "change", "who": "0f3e9a77-lead", "role": A.LEAD,
                    "action": "add", "entity": "rating", "key": f"{a.id}/governance",
                    "fields": "current_stage,evidence,note"}
    for personal in ("Board minutes", "Private note", "Lee", "lee.lead@nhs.net", "developing"):
        assert personal not in err
    ratings.save_rating(store.acting(LEAD), a.id, "governance", expected_version=1, evidence=None)
    [line] = parse(capsys.readouterr().err)
    assert (line["action"], line["fields"]) == ("remove", "evidence")
    ratings.save_rating(store.acting(LEAD), a.id, "governance", expected_version=2, current_stage="starting")
    assert parse(capsys.readouterr().err)[0]["action"] == "update"


def test_a_refused_or_rolled_back_change_logs_nothing(store, small_matrix, capsys):
    a = ratings.create_assessment(store, "U90001", "2024/25", small_matrix, by="setup")
    ratings.save_rating(store, a.id, "governance", by="setup", expected_version=0, note="first")
    capsys.readouterr()
    with pytest.raises(ConflictError):
        ratings.save_rating(store.acting(LEAD), a.id, "governance", expected_version=0, note="stale")
    with pytest.raises(ValueError), store.batch(by="x") as uow:
        ratings.save_rating(uow, a.id, "vision", expected_version=0, note="undone")
        raise ValueError("the transaction is rolled back")
    assert capsys.readouterr().err == ""


def test_sign_ins_and_roles_log_no_email_or_name(store, capsys):
    proxy = Principal("proxy:lee.lead@nhs.net", "Dr Lee Lead", "lee.lead@nhs.net",
                      (Grant(A.LEAD, pcn_code="U90001"),), "proxy")
    people.record_sign_in(store.acting(proxy), proxy)
    people.grant(store, "new.member@nhs.net", A.MEMBER, pcn_code="U90001", by="Ann Admin")
    err = capsys.readouterr().err
    [sign_in, grant] = parse(err)
    hashed = oplog.pseudonym("proxy:lee.lead@nhs.net")
    assert (sign_in["event"], sign_in["who"], sign_in["key"], sign_in["role"]) == ("sign-in", hashed, hashed, A.LEAD)
    assert re.fullmatch(r"~[0-9a-f]{12}", hashed)
    assert (grant["entity"], grant["who"], grant["role"]) == ("role_grant", "system", A.ADMINISTRATOR)
    assert grant["key"] == f"{oplog.pseudonym('new.member@nhs.net')}/{A.MEMBER}/U90001"
    assert "@" not in err and "Lee" not in err and "Ann" not in err


def test_workshop_joins_and_ratings_from_phones_are_logged_without_names_or_comments(store, small_matrix, capsys):
    w = ws.open_workshop(store, "U90001", "2024/25", small_matrix, by="Fran")
    _, p = ws.join(store, w.code, "Sam Smith", "GP")
    ws.rate(store, p.token, "governance", "developing", comment="We argued about this")
    ws.rate(store, p.token, "governance", None)
    err = capsys.readouterr().err
    opened, joined, rated, taken_back = parse(err)
    assert (opened["entity"], opened["action"]) == ("workshop", "add")
    assert (joined["who"], joined["entity"], joined["key"], joined["fields"]) == (
        f"participant:{p.id}", "workshop_participant", f"{w.id}/{p.id}", "name,role")
    assert (rated["entity"], rated["key"], rated["action"], rated["fields"]) == (
        "workshop_rating", f"{w.id}/{p.id}/governance", "update", "stage,comment")
    assert taken_back["action"] == "remove"
    for personal in ("Sam", "argued", "Fran", w.code):
        assert personal not in err


def test_a_large_transaction_is_summed_up_per_entity(store, tmp_path, capsys):
    rows = "".join(f"QZZ,Test ICS,U91{i:03d},PCN {i},{10_000 + i}\n" for i in range(oplog.MAX_LINES_PER_COMMIT + 10))
    path = tmp_path / "orgs.csv"
    path.write_text("ics_code,ics_name,pcn_code,pcn_name,list_size\n" + rows, encoding="utf-8")
    capsys.readouterr()
    orgs.import_organisations(store, path, by="setup")
    [line] = parse(capsys.readouterr().err)
    assert (line["entity"], line["records"], line["action"]) == ("pcn", str(oplog.MAX_LINES_PER_COMMIT + 10), "add")
    assert "key" not in line and "PCN 1" not in str(line)


def test_odd_keys_stay_on_one_line():
    assert oplog.line("change", key="a b\nc", fields="x") == r'event=change key="a b\nc" fields=x'
    assert oplog.line("change", key='say "hi"') == r'event=change key="say \"hi\""'


def test_streamlit_keeps_its_own_logging_and_the_root_logger_is_untouched():
    import streamlit.logger as st_logger

    st_log = st_logger.get_logger("streamlit.oplog_test")
    st_handlers, root_handlers = list(st_log.handlers), list(logging.getLogger().handlers)
    ours = oplog.configure()
    assert oplog.configure() is ours  # configured once (pytest adds capture handlers of its own)
    assert len([h for h in ours.handlers if type(h).__module__ == oplog.__name__]) == 1
    assert st_log.handlers == st_handlers and logging.getLogger().handlers == root_handlers
    assert not ours.propagate


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    full.pop("PCN_LOG_LEVEL", None) if "PCN_LOG_LEVEL" not in env else None
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, cwd=ROOT,
                          timeout=120)


EMIT = """
import streamlit.logger as L
from assessments import oplog
L.get_logger("streamlit.check").warning("streamlit still logs")
oplog.event("change", who="system", entity="ics", key="QZZ", fields="name")
"""


def test_in_a_fresh_process_both_logs_print_once_each_and_the_level_is_set_by_pcn_log_level():
    r = run_python(EMIT)
    assert r.returncode == 0, r.stderr
    [st_line] = [x for x in r.stderr.splitlines() if "streamlit still logs" in x]
    assert "WARNING streamlit.check: streamlit still logs" in st_line  # Streamlit's own format
    assert len(parse("\n".join(x for x in r.stderr.splitlines() if x.startswith("time=")))) == 1
    quiet = run_python(EMIT, PCN_LOG_LEVEL="warning")
    assert "event=change" not in quiet.stderr and "streamlit still logs" in quiet.stderr
    wrong = run_python(EMIT, PCN_LOG_LEVEL="chatty")
    assert "PCN_LOG_LEVEL=CHATTY is not a level" in wrong.stderr and "event=change" in wrong.stderr


def test_the_command_line_logs_its_changes_too(store, tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "grant", "someone@nhs.net", "pcn-lead", "--pcn",
                        "U90001"], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                       env={**os.environ, "PCN_DATABASE_URL": str(store.url.render_as_string(hide_password=False))})
    assert r.returncode == 0, r.stderr
    [line] = parse(r.stderr)
    assert (line["entity"], line["who"], line["fields"]) == ("role_grant", "system", "email,may_edit,role,scope")
    assert "someone@" not in r.stderr and "someone@nhs.net" in r.stdout


def test_a_restore_is_one_line_of_counts(store, small_matrix, tmp_path, capsys):
    from assessments import exchange

    a = ratings.create_assessment(store, "U90001", "2024/25", small_matrix, by="setup")
    ratings.save_rating(store, a.id, "governance", by="Dr Lee Lead", expected_version=0, current_stage="developing",
                        evidence=TYPED)
    data = exchange.backup(store)
    with Store(f"sqlite:///{tmp_path / 'restored.db'}", matrices=[small_matrix]) as target:
        capsys.readouterr()
        counts = exchange.restore(target, data)
        err = capsys.readouterr().err
    [line] = parse(err)
    per_table = {t: n for t, n in counts.items() if n}
    assert line == {"pid": str(os.getpid()), "event": "restore", "who": "system", "role": A.ADMINISTRATOR,
                    "records": str(sum(counts.values())), "schema": data["schema_revision"],
                    "tables": ",".join(f"{t}:{n}" for t, n in per_table.items())}
    assert per_table["rating"] == 1 and per_table["pcn"] == 1
    for personal in ("Board minutes", "Lee", "Test PCN", "developing", "setup"):
        assert personal not in err


def test_a_refused_restore_logs_nothing(store, tmp_path, capsys):
    from assessments import exchange

    data = exchange.backup(store)
    capsys.readouterr()
    with pytest.raises(exchange.RestoreError):
        exchange.restore(store, data)  # not empty
    assert capsys.readouterr().err == ""


def test_a_bulk_load_of_generated_data_is_one_line_of_counts(tmp_path, capsys):
    from assessments.synthetic import generate

    with Store(f"sqlite:///{tmp_path / 'bulk.db'}") as s:
        capsys.readouterr()
        summary = generate(s, n_ics=2, n_pcns=6, seed=3)
        err = capsys.readouterr().err
    [line] = parse(err)
    assert (line["event"], line["who"], line["role"]) == ("bulk-load", "system", A.ADMINISTRATOR)
    assert line["tables"] == (f"ics:2,pcn:6,assessment:{summary.assessments},rating:{summary.ratings},"
                              f"audit_log:{summary.audit_rows}")
    assert line["records"] == str(8 + summary.assessments + summary.ratings + summary.audit_rows)


def test_an_import_of_ratings_is_summed_up_without_values(store, small_matrix, tmp_path, capsys):
    """The imports write through the unit of work's set-based paths, which log like any change:
    many records make one line per entity with their count."""
    from assessments import exchange

    pcns = "".join(f"QZZ,Test ICS,U92{i:03d},PCN {i},{10_000 + i}\n" for i in range(30))
    (tmp_path / "orgs.csv").write_text("ics_code,ics_name,pcn_code,pcn_name,list_size\n" + pcns, encoding="utf-8")
    orgs.import_organisations(store, tmp_path / "orgs.csv", by="setup")
    rows = "".join(f"U92{i:03d},2024/25,{small_matrix.id},{small_matrix.version},{e},developing,,,{TYPED},\n"
                   for i in range(30) for e in ("governance", "vision"))
    path = tmp_path / "ratings.csv"
    path.write_text("pcn_code,year,matrix_id,matrix_version,element_id,current_stage,target_stage,confidence,"
                    "evidence,note\n" + rows, encoding="utf-8")
    capsys.readouterr()
    result = exchange.import_ratings(store, path, by="Dr Lee Lead")
    err = capsys.readouterr().err
    lines = {line["entity"]: line for line in parse(err)}
    assert set(lines) == {"assessment", "rating"}, err
    assert (lines["rating"]["records"], lines["rating"]["action"]) == ("60", "add")
    assert lines["assessment"]["records"] == "30" and "key" not in lines["rating"]
    assert result.summary()
    for personal in ("Board minutes", "Lee", "developing", "PCN 1"):
        assert personal not in err
