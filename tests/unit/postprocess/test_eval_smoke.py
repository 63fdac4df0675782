"""The quality evaluation's hole maker and judge, on a few stdlib holes, with the pipeline in-process."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from eval_holes import judge, make_holes

from fim_lsp.context import FimContext
from fim_lsp.postprocess import postprocess


def test_clean_answers_stay_exact_and_noise_is_mostly_fixed() -> None:
    quota = {"clean": 12, "repeat_suffix": 4, "autoclose": 4, "past_block": 4, "repeat_line": 4}
    holes = make_holes(7, quota, languages=("python",))
    assert len(holes) == sum(quota.values())
    exact = {"clean": 0, "noisy": 0}
    for hole in holes:
        got = postprocess(hole.answer, FimContext(hole.prefix, hole.suffix, hole.language))
        doc, cursor = hole.document, len(hole.prefix)
        final = doc if got is None else doc[:cursor] + got.text + doc[cursor + got.replace :]
        if judge(final, hole).exact:
            exact["clean" if hole.kind == "clean" else "noisy"] += 1
    assert exact["clean"] == 12
    assert exact["noisy"] >= 13
