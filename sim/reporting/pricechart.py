"""The price chart of market products (contract section 11, docs/markets.md): the daily
price at each market demand node, median over replications with its 5-95% fan, shocks
shaded; one panel per (node, product), at most four."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

from ..rundir import write_csv
from ..units import sig
from .charts import _dates, _finish, _label, _plain, _short, _title, _where, daily_bands, save_figure
from .shading import legend_shade, shade_shocks
from .style import chart_formats, chart_style, new_figure, variant_colours
from .words import product_label

MAX_PANELS = 4


def market_rows(data) -> list[tuple[str, str]]:
    """(node, product) of every recorded price series, in table order (empty without markets)."""
    rows = data.timeseries[data.timeseries["metric"] == "price"][["node", "product"]].drop_duplicates()
    return [(str(n), str(p)) for n, p in rows.itertuples(index=False)][:MAX_PANELS]


@chart_style()
def price_fan(data, rows: list[tuple[str, str]]):
    """Price (currency per unit) per variant over calendar time at each market row: median
    line and 5-95% band over replications; returns the figure and the plotted table."""
    colours = variant_colours([v.id for v in data.variants])
    fig = new_figure(figsize=(10, 2.4 + 2.2 * len(rows)))
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    tables = []
    peak = 0.0
    for ax, (node, product) in zip(axes, rows, strict=True):
        band = daily_bands(data.timeseries, "price", node, product)
        for v in data.variants:
            grp = band[band["variant"] == v.id]
            ax.plot(grp["date"], grp["median"], color=colours[v.id], lw=1.8, label=_label(data, v.id))
            ax.fill_between(grp["date"], grp["p05"], grp["p95"], color=colours[v.id], alpha=0.15, lw=0)
        base = band[band["variant"] == data.base.id]
        if len(base):
            peak = max(peak, float(base["median"].max()) / max(float(base["median"].iloc[0]), 1e-300))
        shade_shocks(ax, data, node)
        unit = data.base.scenario.products[product].unit if product in data.base.scenario.products else "unit"
        ax.set_ylabel(f"USD per {_short(unit, 16)}")
        ax.set_title(f"{_where(data, node)}: {_short(product_label(data.base.scenario, product), 32)}", loc="left",
                     fontsize=10)
        ax.set_ylim(bottom=0)
        _plain(ax.yaxis)
        _dates(ax)
        tables.append(band.assign(node=node, product=product))
    title = (f"Price at the market demand nodes: the median peaks at {sig(peak)} times its first-day level in "
             "the base case (line: median; band: 5-95% of runs)")
    _title(fig, title)
    ncol = 2 if len(data.variants) > 1 else 1
    handles, labels = axes[0].get_legend_handles_labels()
    legend_rows = -(-len(labels) // ncol)
    legend_shade(fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.3 / fig.get_figheight()),
                            ncol=ncol, frameon=False))
    _finish(fig, data)
    # margins in inches, whatever the number of panels: the title's lines above, then each
    # panel's own title; below, the date labels, the legend rows and the source line
    height = fig.get_figheight()
    title_lines = len(textwrap.wrap(title, 95))
    fig.subplots_adjust(top=1 - (0.35 + 0.24 * title_lines) / height,
                        bottom=(0.75 + 0.28 * legend_rows) / height, hspace=0.55)
    return fig, pd.concat(tables, ignore_index=True)


def save_price_chart(data, folder: Path, svg: bool = False) -> list[Path]:
    """``price_fan`` as PNG (and SVG when ``svg``) with its CSV in ``folder``, when the run has a market
    (the paths written; none without one). Called beside ``charts.save_charts``."""
    rows = market_rows(data)
    if not rows:
        return []
    fig, table = price_fan(data, rows)
    made = []
    with chart_style():  # savefig.dpi is read when saving
        for ext in chart_formats(svg):
            save_figure(fig, folder / f"price_fan.{ext}")
            made.append(folder / f"price_fan.{ext}")
    write_csv(folder / "price_fan.csv", table)
    return [*made, folder / "price_fan.csv"]
