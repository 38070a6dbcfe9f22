from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_DIR

from tr118_native.fixture import data


def speech(year: int, name: str = "x") -> data.Speech:
    return data.Speech(year=year, file=f"{year}_{name}.txt", text=f"speech of {year}")


def test_normalise_changes_line_endings_only() -> None:
    assert data.normalise("\r\nA\r\nB\rC “quoted” — \x02\n\n") == "A\nB\nC “quoted” — \x02"


def test_split_by_year_puts_each_speech_in_exactly_one_part() -> None:
    speeches = [speech(y) for y in (1790, 2013, 2014, 2017, 2018, 2021)]
    split = data.split_by_year(speeches, validation_first_year=2014, heldout_first_year=2018)
    assert [s.year for s in split.train] == [1790, 2013]
    assert [s.year for s in split.validation] == [2014, 2017]
    assert [s.year for s in split.heldout] == [2018, 2021]
    assert [s.year for s in split.tokenizer_corpus] == [1790, 2013, 2014, 2017]


def test_split_rejects_validation_after_heldout() -> None:
    with pytest.raises(ValueError, match="before"):
        data.split_by_year([], validation_first_year=2019, heldout_first_year=2018)


def test_real_corpus_split_matches_the_committed_heldout_text(sotu_dir: Path) -> None:
    split = data.split_by_year(data.load_speeches(sotu_dir))
    assert max(s.year for s in split.train) < data.VALIDATION_FIRST_YEAR
    assert {s.year for s in split.validation} == {2014, 2015, 2016, 2017}
    assert [s.year for s in split.heldout] == [2018, 2019, 2020, 2021]
    # Two presidents spoke in 1953 and in 1961: both speeches are kept.
    assert sum(s.year == 1961 for s in split.train) == 2
    assert data.join(split.heldout) == (FIXTURE_DIR / "heldout.txt").read_text(encoding="utf-8")


def test_heldout_text_is_four_speeches_separated_by_blank_lines() -> None:
    text = (FIXTURE_DIR / "heldout.txt").read_text(encoding="utf-8")
    assert "\r" not in text
    assert len(text.split(data.SPEECH_SEPARATOR)) >= 4
    assert not text.startswith("\n")
    assert not text.endswith("\n")


def test_card_years_match_the_split(card: dict[str, Any]) -> None:
    assert card["data"]["heldout_years"] == [2018, 2021]
    assert card["data"]["validation_years"] == [2014, 2017]
    assert card["data"]["train_years"] == [1790, 2013]
    assert card["tokenizer"]["trained_on_years"] == [1790, 2017]
