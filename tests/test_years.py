"""The one rule for assessment years (assessments/years.py), worked by hand on two days: 1 December
2026 (in 2026/27) and 1 April 2027 (the first day of 2027/28)."""
from __future__ import annotations

from datetime import date

import pytest

from assessments import years as Y
from assessments.values import InputError

DEC_2026 = date(2026, 12, 1)  # in 2026/27
APR_2027 = date(2027, 4, 1)  # the first day of 2027/28
DEMO = ["2021/22", "2022/23", "2023/24", "2024/25"]


def test_this_year_turns_on_the_first_of_april():
    assert Y.current_year(date(2027, 3, 31)) == "2026/27"
    assert Y.current_year(DEC_2026) == "2026/27"
    assert Y.current_year(APR_2027) == "2027/28"


def test_years_up_to_next_year_can_be_started():
    assert Y.can_start("2027/28", DEC_2026) and not Y.can_start("2028/29", DEC_2026)
    assert Y.can_start("2028/29", APR_2027) and not Y.can_start("2029/30", APR_2027)
    assert Y.can_start("2001/02", DEC_2026)  # history may be imported
    with pytest.raises(InputError, match="2028/29 cannot be started yet: this financial year is 2026/27, so years "
                                         "up to 2027/28 can be started"):
        Y.check_startable("2028/29", DEC_2026)
    assert Y.check_startable("2027/28", DEC_2026) == "2027/28"


def test_nothing_recorded():
    """A new network: last, this and next year are offered, and pages open on this year."""
    assert Y.offered_years([], DEC_2026) == ["2025/26", "2026/27", "2027/28"]
    assert Y.default_year([], DEC_2026) == "2026/27"
    assert Y.offered_years([], APR_2027) == ["2026/27", "2027/28", "2028/29"]
    assert Y.default_year([], APR_2027) == "2027/28"


def test_the_issue_in_december_2026():
    """Last year assessed, this year not yet: both offered on every page, which open on last year;
    once a workshop writes this year, last year stays in the list and pages open on this year."""
    before = ["2025/26"]
    assert Y.offered_years(before, DEC_2026) == ["2025/26", "2026/27", "2027/28"]
    assert Y.default_year(before, DEC_2026) == "2025/26"
    after = ["2025/26", "2026/27"]
    assert Y.offered_years(after, DEC_2026) == ["2025/26", "2026/27", "2027/28"]
    assert Y.default_year(after, DEC_2026) == "2026/27"


def test_the_same_network_on_the_first_of_april_2027():
    recorded = ["2025/26", "2026/27"]
    assert Y.offered_years(recorded, APR_2027) == ["2025/26", "2026/27", "2027/28", "2028/29"]
    assert Y.default_year(recorded, APR_2027) == "2026/27"  # 2027/28 has nothing yet
    assert Y.startable_years(recorded, APR_2027) == ["2027/28", "2028/29"]


def test_the_demo_years():
    """Records stop at 2024/25: the year after them is offered as well as last, this and next year."""
    assert Y.offered_years(DEMO, DEC_2026) == [*DEMO, "2025/26", "2026/27", "2027/28"]
    assert Y.default_year(DEMO, DEC_2026) == "2024/25"
    assert Y.offered_years(DEMO, APR_2027) == [*DEMO, "2025/26", "2026/27", "2027/28", "2028/29"]
    assert Y.default_year(DEMO, APR_2027) == "2024/25"


def test_a_gap_between_old_records_and_today_is_not_filled_in():
    assert Y.offered_years(["2019/20"], DEC_2026) == ["2019/20", "2020/21", "2025/26", "2026/27", "2027/28"]
    assert Y.default_year(["2019/20"], DEC_2026) == "2019/20"


def test_records_ahead_of_this_year():
    """Next year planned ahead: the year after it cannot be started yet, and pages open on this
    year once it has records, else on the latest earlier year."""
    assert Y.offered_years(["2026/27", "2027/28"], DEC_2026) == ["2025/26", "2026/27", "2027/28"]
    assert Y.default_year(["2026/27", "2027/28"], DEC_2026) == "2026/27"
    assert Y.default_year(["2025/26", "2027/28"], DEC_2026) == "2025/26"
    assert Y.default_year(["2027/28"], DEC_2026) == "2026/27"


def test_any_order_and_repeats():
    recorded = ["2026/27", "2024/25", "2026/27", "2025/26"]
    assert Y.offered_years(recorded, DEC_2026) == ["2024/25", "2025/26", "2026/27", "2027/28"]


def test_what_progress_compares_names_the_missing_years():
    steps = Y.comparisons(["2026/27", "2024/25", "2023/24"])
    assert [(c.after, c.before, c.missing) for c in steps] == [("2024/25", "2023/24", ()),
                                                              ("2026/27", "2024/25", ("2025/26",))]
    assert steps[0].label == "2024/25 with 2023/24" and steps[0].note is None
    assert steps[1].label == "2026/27 with 2024/25 (no 2025/26 assessment)"
    assert steps[1].note == "There is no 2025/26 assessment, so 2026/27 is compared with 2024/25, 2 years earlier."
    two = Y.comparisons(["2021/22", "2024/25"])[0]
    assert two.label == "2024/25 with 2021/22 (no 2022/23 or 2023/24 assessment)"
    assert Y.comparisons(["2024/25"]) == [] and Y.comparisons([]) == []


def test_the_years_not_assessed_since_the_latest():
    assert Y.not_assessed_since(DEMO, DEC_2026) == ["2025/26", "2026/27"]
    assert Y.not_assessed_since(DEMO, APR_2027) == ["2025/26", "2026/27", "2027/28"]
    assert Y.not_assessed_since(["2026/27"], DEC_2026) == []
    assert Y.not_assessed_since(["2027/28"], DEC_2026) == []
    assert Y.not_assessed_since([], DEC_2026) == []


def test_the_choice_as_the_command_line_prints_it():
    c = Y.year_choice(["2025/26"], DEC_2026)
    assert (c.current, c.default, c.offered, c.startable) == ("2026/27", "2025/26", ("2025/26", "2026/27", "2027/28"),
                                                              ("2026/27", "2027/28"))
    assert c.lines() == ["This financial year: 2026/27", "Years with records: 2025/26",
                         "Years that can be started: 2026/27, 2027/28", "Pages open on: 2025/26"]


def test_the_century_rolls_over():
    assert Y.offered_years(["2098/99"], date(2098, 5, 1)) == ["2097/98", "2098/99", "2099/00"]
    assert Y.years_between("2097/98", "2099/00") == ["2098/99"]


def test_a_bad_year_is_refused():
    with pytest.raises(InputError):
        Y.offered_years(["2024-25"], DEC_2026)
    with pytest.raises(InputError):
        Y.default_year(["2024/26"], DEC_2026)
    with pytest.raises(InputError):
        Y.check_startable("2024-25", DEC_2026)
