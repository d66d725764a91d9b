"""What a reader sees in a briefing. Shock windows on the time charts: labels that fit go
on rows where they cannot overlap, the rest are shaded and counted; with a focus node only
the shocks on its supply chain are drawn (as "What drives the result" names them), the
others counted in the legend. A comparison whose options all equal the base says so in the
bar chart's title; the network map's title leads with unmet demand; the question's verb
agrees with its subject."""
from __future__ import annotations

from test_relevance import DOC

import sim
from helpers import scenario
from sim.reporting.charts import fan_chart, kpi_bars
from sim.reporting.shading import shock_rows
from sim.rundir import run_data_from_comparison, run_data_from_results


def test_labels_take_the_first_row_that_is_free():
    # widths 0.3 on two rows: 0 ends at 0.3; 1 starts at 0.1 -> row 1 (ends 0.4); 2 at 0.2 fits
    # neither; 3 at 0.35 -> row 0 again (0.3 < 0.35); 4 at 0.6 -> row 1 (0.4 < 0.6; row 0 ends 0.65)
    spans = [(0.0, 0.5), (0.1, 0.2), (0.2, 0.3), (0.35, 0.4), (0.6, 0.9)]
    assert shock_rows(spans, [0.3] * 5, rows=2) == [0, 1, None, 0, 1]


def _labels(ax):
    return sorted(t.get_text() for t in ax.texts)


def test_a_focus_node_shows_only_the_shocks_on_its_supply_chain():
    res = sim.run(scenario(**DOC, replications=2, seed=1))
    data = run_data_from_results(res)
    fig, _ = fan_chart(data, "shortfall", "users", "bar", "shortfall", "t", cumulative=True)
    ax = fig.axes[0]
    assert _labels(ax) == ["Ore ban", "Rivals buy more"]      # the fab fire and the chip ban act elsewhere
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "shock windows (2 elsewhere in the network not shown)" in legend
    # the same chart for the chip users names the other two
    fig, _ = fan_chart(data, "shortfall", "labs", "chip", "shortfall", "t", cumulative=True)
    assert _labels(fig.axes[0]) == ["Chip ban", "Fab fire"]


def test_equal_options_are_not_called_the_best():
    base = scenario(**DOC, replications=2, seed=1)
    same = scenario(**{**DOC, "name": "copy"}, replications=2, seed=1)
    data = run_data_from_comparison(sim.compare([base, same], focus="users"))
    fig, _ = kpi_bars(data, "users", "bar")
    title = fig.get_suptitle()
    assert "no option changes the shortfall" in title.replace("\n", " ")
    assert "leaves the least" not in title


def test_the_network_map_leads_with_unmet_demand():
    # the ore ban idles the mill from day 5 while its buyers live on 150 t of stock for weeks:
    # the mill's idle share is the larger number, but the title is about a buyer
    from sim.reporting.charts import network_map

    nodes = {**DOC["nodes"], "users": {**DOC["nodes"]["users"], "inventory": {"bar": 150}},
             "rivals": {**DOC["nodes"]["rivals"], "inventory": {"bar": 150}}}
    res = sim.run(scenario(**{**DOC, "nodes": nodes}, replications=2, seed=1))
    fig, table = network_map(run_data_from_results(res))
    title = fig.get_suptitle().replace("\n", " ")
    mill = float(table.loc[table["node"] == "mill", "unmet_share"].iloc[0])
    worst_buyer = float(table.loc[table["kind"] == "demand", "unmet_share"].max())
    assert mill > worst_buyer > 0
    assert "of their demand unmet" in title and "idle" not in title  # "users", "rivals": plural


def test_the_question_agrees_with_its_subject():
    from types import SimpleNamespace

    from sim.reporting.briefing import _question
    from sim.reporting.summary import Focus

    data = SimpleNamespace(kind="run", base=SimpleNamespace(label="the ban"))
    assert _question(data, Focus("u", "m", "t", "EU magnet users", "magnet")).startswith("How do EU magnet users")
    assert _question(data, Focus("f", "m", "t", "Fab Dresden", "magnet")).startswith("How does Fab Dresden")
    assert _question(data, None) == "How does the network fare under the ban?"
