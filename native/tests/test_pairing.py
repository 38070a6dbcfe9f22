"""Same-run A/B helpers every engine uses (pairing.py): the order two models are opened in, and which one a request
names."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tr118_native.worker.errors import WorkerError
from tr118_native.worker.pairing import end_to_end_passes, open_pair, pick


def opener(opened: list[str], name: str) -> Callable[[], str]:
    def open_model() -> str:
        opened.append(name)
        return name

    return open_model


@pytest.mark.parametrize(("base_first", "order"), [(False, ["candidate", "base"]), (True, ["base", "candidate"])])
def test_open_pair_opens_both_in_the_order_asked(base_first: bool, order: list[str]) -> None:
    opened: list[str] = []
    pair = open_pair(opener(opened, "candidate"), opener(opened, "base"), base_first)
    assert pair == ("candidate", "base")
    assert opened == order


def test_open_pair_without_a_base_opens_the_candidate_only() -> None:
    opened: list[str] = []
    assert open_pair(opener(opened, "candidate"), None, True) == ("candidate", None)
    assert opened == ["candidate"]


def test_pick_names_the_side_and_refuses_a_base_that_was_not_opened() -> None:
    assert pick("c", "b", None, "the base model") == "c"
    assert pick("c", "b", "candidate", "the base model") == "c"
    assert pick("c", "b", "base", "the base model") == "b"
    with pytest.raises(WorkerError, match=r"^the base model's engine was not opened$"):
        pick("c", None, "base", "the base model's engine")


@pytest.mark.parametrize(
    ("request_fields", "passes"),
    [
        ({"iterations": 40, "endToEndPasses": 5}, 5),
        ({"iterations": 40, "endToEndPasses": 0}, 0),
        ({"iterations": 40}, 40),
    ],
)
def test_end_to_end_passes_is_the_count_asked_for_else_the_timed_count(
    request_fields: dict[str, int], passes: int
) -> None:
    # A runner from before the count was sent got one end-to-end pass per timed pass: still so.
    assert end_to_end_passes(dict(request_fields)) == passes
