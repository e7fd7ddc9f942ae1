"""The one rule for the years a page offers and the year it starts on (assessments/years.py)."""
from __future__ import annotations

from datetime import date

import pytest

from assessments.values import InputError
from assessments.years import default_year, offered_years

DEC_2026 = date(2026, 12, 1)  # in 2026/27


def test_nothing_recorded_offers_this_financial_year_and_the_next():
    assert offered_years([], DEC_2026) == ["2026/27", "2027/28"]
    assert default_year([], DEC_2026) == "2026/27"


def test_records_up_to_this_year_offer_them_and_the_year_after():
    recorded = ["2025/26", "2024/25", "2026/27", "2025/26"]  # any order, repeats
    assert offered_years(recorded, DEC_2026) == ["2024/25", "2025/26", "2026/27", "2027/28"]
    assert default_year(recorded, DEC_2026) == "2026/27"


def test_old_records_offer_the_year_after_them_and_this_financial_year():
    recorded = ["2021/22", "2022/23", "2023/24", "2024/25"]
    assert offered_years(recorded, DEC_2026) == ["2021/22", "2022/23", "2023/24", "2024/25", "2025/26", "2026/27",
                                                 "2027/28"]
    assert default_year(recorded, DEC_2026) == "2024/25"  # the latest with records, not today's year


def test_a_gap_between_records_and_today_is_not_filled_in():
    assert offered_years(["2019/20"], DEC_2026) == ["2019/20", "2020/21", "2026/27", "2027/28"]


def test_records_ahead_of_today_offer_the_year_after_the_latest():
    assert offered_years(["2026/27", "2027/28"], DEC_2026) == ["2026/27", "2027/28", "2028/29"]
    assert default_year(["2026/27", "2027/28"], DEC_2026) == "2027/28"


@pytest.mark.parametrize("day, year", [(date(2026, 3, 31), "2025/26"), (date(2026, 4, 1), "2026/27")])
def test_the_financial_year_turns_on_the_first_of_april(day, year):
    assert offered_years([], day)[0] == year
    assert default_year([], day) == year


def test_the_century_rolls_over():
    assert offered_years(["2098/99"], date(2098, 5, 1)) == ["2098/99", "2099/00"]


def test_a_bad_year_is_refused():
    with pytest.raises(InputError):
        offered_years(["2024-25"], DEC_2026)
    with pytest.raises(InputError):
        default_year(["2024/26"], DEC_2026)
