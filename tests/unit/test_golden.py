"""The golden corpus (tests/golden): every case must come out exact, whole and streamed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from eval_golden import (
    CHUNKS,
    Case,
    CaseError,
    load_cases,
    padded,
    parse_case,
    run,
    run_streamed,
)

CASES = load_cases()


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 10


def test_no_two_cases_share_a_document_and_cursor() -> None:
    # `eval_golden.py --server` runs them through one server, whose cache keys on the prompt:
    # a second case at the same place (and setting) would get the first one's answer.
    seen: dict[tuple[str, str, int, str], str] = {}
    for case in CASES:
        key = (case.language, case.document, case.cursor, case.multiline)
        assert key not in seen, f"{case.name} repeats {seen[key]}"
        seen[key] = case.name


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_is_exact(case: Case) -> None:
    got = run(case)
    assert got == case.expected, case.why


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_streaming_stops_without_changing_the_answer(case: Case) -> None:
    whole = run(case)
    for size in CHUNKS:
        assert run_streamed(case, size) == whole, size


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_is_exact_in_a_large_document(case: Case) -> None:
    # The windows cut the document above, below, or both: bracket balance is then partly unknown.
    for above, below in ((True, False), (False, True), (True, True)):
        big = padded(case, above, below)
        assert run(big) == big.expected, (above, below, case.why)


def test_sections_lose_only_the_newline_before_the_next_marker() -> None:
    text = (
        "# why: w\n# class: clean\n# multiline: never\n"
        "--- document\nx = █\n\n--- model\n1\n\n--- expected\nx = 1\n\n"
    )
    case = parse_case(text, "t.case", "python")
    assert case.document == "x = \n"
    assert case.cursor == 4
    assert case.model == "1\n"
    assert case.expected == "x = 1\n"
    assert case.multiline == "never"


def test_nothing_and_empty_sections() -> None:
    text = "# why: w\n# class: nothing\n--- document\n█\n--- model\n--- expected\n<nothing>"
    case = parse_case(text, "t.case", "python")
    assert (case.document, case.model, case.expected, case.multiline) == ("", "", None, "auto")


@pytest.mark.parametrize(
    "text",
    [
        "# class: clean\n--- document\n█\n--- model\nx\n--- expected\nx",  # no why
        "# why: w\n# class: odd\n--- document\n█\n--- model\nx\n--- expected\nx",
        "# why: w\n# class: clean\n--- document\nx\n--- model\nx\n--- expected\nx",  # no cursor
        "# why: w\n# class: clean\n--- document\n█\n--- expected\nx",  # no model
        "# why: w\n# class: clean\n# multiline: sometimes\n--- document\n█\n--- model\n"
        "--- expected\nx",
    ],
)
def test_malformed_cases_are_refused(text: str) -> None:
    with pytest.raises(CaseError):
        parse_case(text, "bad.case", "python")


def test_streaming_never_changes_the_answer_on_mixed_cases() -> None:
    # Documents, cursors and model texts of different cases mixed: shapes nobody wrote a case for.
    import random

    from fim_lsp.context import FimContext
    from fim_lsp.postprocess import postprocess, stream_done

    rng = random.Random(7)
    for _ in range(300):
        a, b = rng.choice(CASES), rng.choice(CASES)
        cursor = a.cursor if rng.random() < 0.5 else rng.randrange(len(a.document) + 1)
        ctx = FimContext(
            a.document[:cursor],
            a.document[cursor:],
            a.language,
            multiline=rng.choice(["auto", "always", "never"]),
        )
        model = b.model if rng.random() < 0.7 else a.model
        whole = postprocess(model, ctx)
        raw = ""
        for start in range(0, len(model), 2):
            raw = model[: start + 2]
            if stream_done(raw, ctx):
                break
        assert postprocess(raw, ctx) == whole, (a.name, b.name, cursor)


def test_a_model_that_answers_exactly_right_is_left_alone() -> None:
    # Each case's expected insertion sent as the model text: no rule may cut or change it.
    import dataclasses

    wrong = []
    for case in CASES:
        after = case.document[case.cursor :]
        want = case.expected
        if want is None or not (
            want.startswith(case.document[: case.cursor]) and want.endswith(after)
        ):
            continue
        ideal = want[case.cursor : len(want) - len(after)]
        rest = after.split("\n", 1)[0]
        if "\n" in ideal and ideal.split("\n")[-1].strip() and rest.strip():
            # The rest of the cursor's line would finish the model's last line (`</Button` then
            # `>`): models re-type such a rest instead, as the cases themselves show.
            continue
        if ideal.strip() and run(dataclasses.replace(case, model=ideal)) != want:
            wrong.append(case.name)
    assert not wrong
