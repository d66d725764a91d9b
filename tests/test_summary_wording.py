"""The briefing's answer sentences on a comparison where most runs are never short (the
README's options in the world as it happened): recovered runs are counted among the short
runs only, runs where base and option agree are ties, and a plural node label takes a
plural verb."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd

from sim.reporting.summary import Focus, base_sentence, option_sentence, runs_text

FOCUS = Focus("eu_magnet_users", "ndfeb_magnet", "t", "EU magnet users", "NdFeB magnet")


def _data(base_short: list[float], option_short: list[float]) -> SimpleNamespace:
    """A two-variant comparison with one demand row; a run short on day 10 recovers 30 days later."""
    rows = []
    for vid, shortfalls in (("base", base_short), ("option", option_short)):
        for r, x in enumerate(shortfalls):
            short = x > 0
            for metric, value in (("shortfall", x), ("fill_rate", 1 - x / 1000),
                                  ("time_to_survive_days", 10.0 if short else np.nan),
                                  ("time_to_recover_days", 30.0 if short else 0.0)):
                rows.append({"variant": vid, "node": FOCUS.node, "product": FOCUS.product, "metric": metric,
                             "replication": r, "value": value})
    scenario = SimpleNamespace(start_date=dt.date(2025, 1, 1), horizon=365)
    return SimpleNamespace(table=pd.DataFrame(rows), kind="compare", kpis=None,
                           base=SimpleNamespace(id="base", label="as it happened", scenario=scenario))


def test_only_short_runs_can_recover():
    # 3 of 10 runs are short and all 3 recover; the 7 never-short runs have a recovery
    # time of 0 and must not be counted as recovered ("10 of 3 recover" was printed before)
    data = _data([5, 0, 0, 7, 0, 0, 0, 9, 0, 0], [0] * 10)
    assert runs_text(data, "base", FOCUS) == (10, 3, 3)
    text = base_sentence(data, FOCUS)
    assert "EU magnet users go without 2.1 t" in text and "of their demand" in text  # (5 + 7 + 9) / 10
    assert "They are short in 3 of 10 runs; 3 of 3 recover before the end of the run." in text


def test_ties_are_not_counted_against_an_option():
    # the option removes the shortfall in the 3 short runs and ties in the other 7
    data = _data([5, 0, 0, 7, 0, 0, 0, 9, 0, 0], [0] * 10)
    text = option_sentence(data, "option", "The stockpile", FOCUS)
    assert text.startswith("The stockpile cuts the shortfall of NdFeB magnet at EU magnet users by 2.1 t")
    assert "better in 3 of 10 runs, the same in the other 7, worse in none" in text
    assert "unlikely" not in text


def test_an_option_that_is_sometimes_worse_gets_its_likelihood_word():
    # better in 1, worse in 1, the same in 8: the likelihood sentence, with the ties named
    data = _data([5, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0, 0, 0, 0])
    text = option_sentence(data, "option", "The option", FOCUS)
    assert "(better in 1 of 10 runs, the same in 8)" in text
