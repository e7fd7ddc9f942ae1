"""Evidence items per element: the services, the size limit and the type check by content, the
link check, "copy last year" carrying items over until someone confirms them, freshness counts,
and backup and restore carrying the attached files."""
from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from fpdf import FPDF
from openpyxl import Workbook
from PIL import Image

from assessments import evidence as ev
from assessments import exchange
from assessments import organisations as orgs
from assessments import ratings as assessing
from assessments.model import CARRIED, CURRENT, REVIEW_DUE
from assessments.store import Store
from assessments.values import ConflictError, InputError, LockedError

PCN = "U90001"


def pdf_bytes(text: str = "Board minutes") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica")
    pdf.cell(text=text)
    return bytes(pdf.output())


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 94, 184)).save(buf, "PNG")
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active["A1"] = "Rota"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bytes(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in entries.items():
            z.writestr(name, text)
    return buf.getvalue()


@pytest.fixture
def store(db_url, small_matrix):
    s = Store(db_url, matrices=[small_matrix])
    orgs.add_ics(s, "QZZ", "Test ICS", by="setup")
    orgs.add_pcn(s, PCN, "Evidence PCN", ics_code="QZZ", list_size=10_000, by="setup")
    yield s
    s.close()


def at(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 10, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# The checks, without a database

@pytest.mark.parametrize("name, content, mime", [
    ("minutes.pdf", pdf_bytes(), "application/pdf"),
    ("photo.PNG", png_bytes(), "image/png"),
    ("rota.xlsx", xlsx_bytes(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("plan.docx", zip_bytes({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w/>"}),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("notes.txt", "Agreed at the board, 3 May.\n".encode(), "text/plain"),
    ("list.csv", "practice,signed\nElm,yes\n".encode("utf-8-sig"), "text/csv"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024, "application/vnd.ms-excel"),
])
def test_allowed_types_are_recognised_by_their_content(name, content, mime):
    assert ev.check_upload(ev.Upload(name, content)) == (name, mime)


def test_a_name_without_an_ending_gets_the_contents_one_and_folders_are_dropped():
    assert ev.check_upload(ev.Upload("C:\\Users\\cd\\minutes", pdf_bytes())) == ("minutes.pdf", "application/pdf")
    assert ev.check_upload(ev.Upload("../../etc/scan.png", png_bytes()))[0] == "scan.png"


@pytest.mark.parametrize("name, content, says", [
    ("minutes.pdf", png_bytes(), "called .pdf, but its content is a PNG image"),
    ("tool.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "its content is application/x-msdownload"),
    ("archive.docx", zip_bytes({"a.txt": "x"}), "its content is application/zip"),
    ("page.html", b"<html><script>alert(1)</script></html>", "only .txt, .csv and .md text files"),
    ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "only .txt, .csv and .md"),
    ("blob.txt", bytes(range(256)) * 4, "not a type this tool recognises"),
    ("empty.pdf", b"", "is empty"),
])
def test_other_content_is_refused_whatever_the_name_says(name, content, says):
    with pytest.raises(InputError, match=says.replace(".", r"\.").replace("(", r"\(").replace(")", r"\)")):
        ev.check_upload(ev.Upload(name, content))


def test_the_size_limit_is_ten_megabytes():
    limit = ev.MAX_FILE_BYTES
    assert limit == 10 * 1024 * 1024
    just = b"%PDF-1.4\n" + b"0" * (limit - 9)
    assert ev.check_upload(ev.Upload("big.pdf", just))[1] == "application/pdf"
    with pytest.raises(InputError, match=r"'big\.pdf' is 10\.0 MB; files up to 10 MB"):
        ev.check_upload(ev.Upload("big.pdf", just + b"0"))


@pytest.mark.parametrize("link, says", [
    ("javascript:alert(1)", "must start with https:// or http://"),
    ("ftp://files.example/x", "must start with https:// or http://"),
    ("www.example.org/minutes", "must start with https:// or http://"),
    ("https://", "no web address"),
    ("https://example.org/a b", "spaces or line breaks"),
    ("https://x.org/" + "a" * 2000, "too long"),
])
def test_links_are_http_or_https_with_a_host(link, says):
    with pytest.raises(InputError, match=says):
        ev.check_link(link)


def test_good_links_are_kept_as_typed():
    assert ev.check_link("  https://future.nhs.uk/PCN/view?objectId=123#top ") == \
        "https://future.nhs.uk/PCN/view?objectId=123#top"
    assert ev.check_link("") is None and ev.check_link(None) is None


# ---------------------------------------------------------------------------------------------
# The services

def test_an_item_is_stored_with_its_file_who_added_it_when_and_a_review_by_date(store):
    a = assessing.create_assessment(store, PCN, "2024/25", by="setup")
    with store.batch(by="Dr Cee", at=at(2024, 10, 1)) as uow:
        item = ev.add_evidence(uow, a.id, "governance", description="  Signed network agreement  ",
                               link="https://example.org/agreement", file=ev.Upload("agreement.pdf", pdf_bytes()))
    assert (item.description, item.link, item.created_by, item.created_at, item.review_by) == (
        "Signed network agreement", "https://example.org/agreement", "Dr Cee", at(2024, 10, 1), date(2025, 10, 1))
    assert (item.file.name, item.file.media_type, item.file.size) == ("agreement.pdf", "application/pdf",
                                                                       len(pdf_bytes()))
    assert not item.carried_over and item.freshness(date(2025, 10, 1)) == CURRENT
    assert item.freshness(date(2025, 10, 2)) == REVIEW_DUE
    meta, content = ev.file_content(store, item.id)
    assert meta == item.file and content == pdf_bytes()
    assert {e: [x.id for x in xs] for e, xs in ev.items(store, a.id).items()} == {"governance": [item.id]}
    audit = {e.field: e.after for e in store.audit(entity="evidence", entity_key=str(item.id))}
    assert audit["description"] == "Signed network agreement" and audit["file"].startswith("agreement.pdf (application/pdf")
    assert audit["review_by"] == "2025-10-01"


def test_bad_input_is_refused_and_writes_nothing(store):
    a = assessing.create_assessment(store, PCN, "2024/25", by="setup")
    before = store.data_version()
    with pytest.raises(InputError, match="the description is empty"):
        ev.add_evidence(store, a.id, "governance", by="cd", description="  ")
    with pytest.raises(InputError, match="not an element"):
        ev.add_evidence(store, a.id, "nonsense", by="cd", description="x")
    with pytest.raises(InputError, match="has passed already"):
        ev.add_evidence(store, a.id, "governance", by="cd", description="x", review_by=date(2020, 1, 1))
    with pytest.raises(InputError, match="called .pdf"):
        ev.add_evidence(store, a.id, "governance", by="cd", description="x", file=ev.Upload("x.pdf", png_bytes()))
    assert store.data_version() == before and ev.items(store, a.id) == {}


def test_change_remove_and_conflicts(store):
    a = assessing.create_assessment(store, PCN, "2024/25", by="setup")
    item = ev.add_evidence(store, a.id, "vision", by="cd", description="Vision", file=ev.Upload("v.png", png_bytes()))
    later = date.today().replace(day=1, year=date.today().year + 2)
    changed = ev.update_evidence(store, item.id, by="cd", expected_version=item.version, description="Written vision",
                                 review_by=later.isoformat())
    assert (changed.description, changed.review_by, changed.version) == ("Written vision", later, 2)
    with pytest.raises(InputError, match="five years"):
        ev.update_evidence(store, item.id, by="cd", expected_version=2, review_by=later.replace(year=later.year + 4))
    with pytest.raises(ConflictError):
        ev.update_evidence(store, item.id, by="other", expected_version=1, description="Stale")
    with pytest.raises(ConflictError):
        ev.remove_evidence(store, item.id, by="other", expected_version=1)
    ev.remove_evidence(store, item.id, by="cd", expected_version=2)
    assert ev.items(store, a.id) == {}
    with store.db.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT COUNT(*) FROM evidence_file")).scalar() == 0  # no orphaned bytes


def test_evidence_of_an_agreed_or_submitted_assessment_is_locked(store):
    a = assessing.create_assessment(store, PCN, "2024/25", by="setup")
    item = ev.add_evidence(store, a.id, "vision", by="cd", description="Vision")
    s = assessing.submit_assessment(store, a.id, by="cd", expected_version=a.version).assessment
    with pytest.raises(LockedError, match="submitted for agreement"):
        ev.add_evidence(store, a.id, "vision", by="cd", description="Late")
    agreed = assessing.confirm_assessment(store, a.id, by="ics", expected_version=s.version)
    for attempt in (lambda: ev.add_evidence(store, a.id, "vision", by="cd", description="Late"),
                    lambda: ev.update_evidence(store, item.id, by="cd", expected_version=1, description="Changed"),
                    lambda: ev.remove_evidence(store, item.id, by="cd", expected_version=1),
                    lambda: ev.confirm_element(store, a.id, "vision", by="cd")):
        with pytest.raises(LockedError, match="agreed by ics"):
            attempt()
    # A new revision carries the evidence as it was, and can change it.
    draft = assessing.open_revision(store, agreed.id, by="ics")
    [copy] = ev.items(store, draft.id)["vision"]
    assert (copy.description, copy.created_by, copy.id != item.id) == ("Vision", "cd", True)
    ev.add_evidence(store, draft.id, "vision", by="cd", description="This year's")
    assert [x.description for x in ev.items(store, agreed.id)["vision"]] == ["Vision"]
    # Discarding the revision removes its items only.
    assessing.discard_draft(store, draft.id, by="cd", expected_version=assessing.assessment(store, draft.id).version)
    assert [x.description for x in ev.items(store, agreed.id)["vision"]] == ["Vision"]


def test_copy_last_year_carries_items_over_until_confirmed(store):
    with store.batch(by="cd", at=at(2023, 10, 1)) as uow:
        old = assessing.create_assessment(uow, PCN, "2023/24")
        for e in ("governance", "vision", "data-sharing"):
            assessing.save_rating(uow, old.id, e, expected_version=0, current_stage="developing")
        kept = ev.add_evidence(uow, old.id, "governance", description="Signed agreement",
                               file=ev.Upload("agreement.pdf", pdf_bytes()))
        ev.add_evidence(uow, old.id, "vision", description="Vision on the website", link="https://example.org/v")
    with store.batch(by="cd", at=at(2024, 9, 1)) as uow:
        new = assessing.start_year(uow, PCN, "2024/25")
    found = ev.items(store, new.id)
    g, v = found["governance"][0], found["vision"][0]
    assert (g.carried_from_year, g.carried_over, g.created_by, g.created_at) == ("2023/24", True, "cd", at(2023, 10, 1))
    assert (v.link, v.carried_over) == ("https://example.org/v", True)
    assert g.file.id == kept.file.id  # the same bytes, not a copy
    today = date(2024, 9, 2)
    assert g.freshness(today) == CARRIED
    assert all(r.carried_over for r in assessing.ratings(store, new.id).values())
    c = ev.coverage(store, new.id, today=today)
    assert (c.current, c.elements, c.carried, c.text) == (0, 3, 3, "0 of 3 elements have current evidence")

    # Confirming one item: it counts; confirming an element reviews its rating and every item.
    with store.batch(by="lead", at=at(2024, 9, 3)) as uow:
        confirmed = ev.confirm_evidence(uow, g.id, expected_version=g.version)
    assert (confirmed.confirmed_by, confirmed.carried_over, confirmed.review_by) == ("lead", False, date(2025, 9, 3))
    assert ev.coverage(store, new.id, today=today).current == 1
    assert assessing.rating(store, new.id, "governance").carried_over  # the rating is not reviewed by that
    ev.confirm_element(store, new.id, "vision", by="lead")
    assert not assessing.rating(store, new.id, "vision").carried_over
    assert not ev.items(store, new.id)["vision"][0].carried_over
    # Choosing a stage reviews a carried-over rating too.
    r = assessing.rating(store, new.id, "data-sharing")
    assessing.save_rating(store, new.id, "data-sharing", by="lead", expected_version=r.version, current_stage="embedded")
    assert not assessing.rating(store, new.id, "data-sharing").carried_over
    c = ev.coverage(store, new.id, today=today)
    assert (c.current, c.elements, c.unreviewed, c.without) == (2, 3, ("governance",), ("data-sharing",))
    # The earlier year's items are untouched.
    assert [x.carried_over for xs in ev.items(store, old.id).values() for x in xs] == [False, False]


def test_freshness_counts_leave_out_elements_that_do_not_apply(store):
    from tests.test_not_applicable import MATRIX

    s = Store(store.url, matrices=[MATRIX])
    try:
        a = assessing.create_assessment(s, PCN, "2024/25", MATRIX, by="cd")
        assessing.save_rating(s, a.id, "vision", by="cd", expected_version=0, not_applicable=True)
        with s.batch(by="cd", at=at(2024, 5, 1)) as uow:
            ev.add_evidence(uow, a.id, "governance", description="Old minutes", review_by="2024-06-01")
        assert ev.coverage(s, a.id, today=date(2024, 6, 1)).text == "1 of 1 elements have current evidence"
        due = ev.coverage(s, a.id, today=date(2024, 6, 2))
        assert (due.current, due.elements, due.review_due, due.without) == (0, 1, 1, ("governance",))
    finally:
        s.close()


def test_submitting_warns_of_missing_and_unreviewed_evidence_but_submits(store):
    with store.batch(by="cd", at=at(2023, 10, 1)) as uow:
        old = assessing.create_assessment(uow, PCN, "2023/24")
        for e in ("governance", "vision"):
            assessing.save_rating(uow, old.id, e, expected_version=0, current_stage="developing")
        ev.add_evidence(uow, old.id, "vision", description="Vision")
    new = assessing.start_year(store, PCN, "2024/25", by="cd")
    ev.add_evidence(store, new.id, "governance", by="cd", description="This year's minutes")
    page = ev.submission_warnings(store, new.id)
    done = assessing.submit_assessment(store, new.id, by="cd", expected_version=new.version)
    assert done.assessment.submitted and done.warnings == page
    assert done.warnings == (
        "1 of 3 elements are not rated yet: 'Data sharing'.",
        "2 of 3 elements have no current evidence: 'Shared vision', 'Data sharing'.",
        "2 elements carried over from last year have not been reviewed: 'Governance', 'Shared vision'. Check the "
        "stage and confirm the evidence still holds, or add this year's.")


def test_portfolio_coverage_counts_each_assessment_in_one_read(store):
    orgs.add_pcn(store, "U90002", "Second PCN", ics_code="QZZ", list_size=5_000, by="setup")
    a = assessing.create_assessment(store, PCN, "2024/25", by="setup")
    b = assessing.create_assessment(store, "U90002", "2024/25", by="setup")
    for e in ("governance", "vision"):
        ev.add_evidence(store, a.id, e, by="cd", description=f"{e} evidence")
    got = ev.portfolio_coverage(store, "2024/25", ics_code="QZZ")
    assert {k: (c.current, c.elements) for k, c in got.items()} == {a.id: (2, 3), b.id: (0, 3)}


def test_backup_and_restore_carry_the_items_and_their_files(store, tmp_path, small_matrix):
    a = assessing.create_assessment(store, PCN, "2024/25", by="setup")
    blob = png_bytes()
    item = ev.add_evidence(store, a.id, "vision", by="cd", description="Photo of the board", file=ev.Upload("b.png", blob))
    data = exchange.backup(store)
    assert data["tables"]["evidence_file"]["rows"][0][data["tables"]["evidence_file"]["columns"].index("content")]
    with Store(f"sqlite:///{tmp_path / 'restored.db'}", matrices=[small_matrix]) as restored:
        exchange.restore(restored, data)
        assert exchange.backup(restored) == data
        meta, content = ev.file_content(restored, item.id)
        assert (meta.name, content) == ("b.png", blob)
