"""Replay the historical episodes and put the simulated path next to the observed one.

    .venv/bin/python scenarios/history/make_validation_charts.py

Runs the three replays in this folder with ``sim.run``, writes one chart (PNG) and one
small CSV per episode to ``reports/scenarios/``, and prints the error tables used in
``docs/validation.md``. ``tests/test_history.py`` imports the functions below and checks
the error bands stated there, so the tables, the charts and the tests share one code path.

Observed figures: as cited in docs/validation.md; where a
figure is derived from others (a month implied by a cumulative total or a percentage
change), the derivation is written next to it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

import sim

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "reports" / "scenarios"

# --------------------------------------------------------------------------------------
# Observed data (rows of data/sources.csv, ids next to each block). Tonnes per calendar month unless stated.
# --------------------------------------------------------------------------------------

# China's NdFeB magnet exports, 2025 (China customs via Reuters, Bloomberg;
# data/sources.csv: ree-cn-magnet-exports-may-2025, ree-cn-magnet-exports-jan-may-2025,
# ree-cn-magnet-exports-jul-2025, ree-cn-magnet-exports-jan-jul-2025, ree-cn-magnet-exports-aug-2025,
# ree-cn-magnet-exports-oct-nov-2025, ree-cn-re-products-may-2025, ree-us-bound-magnets-2025)
MAGNETS_PRE_SHOCK = 5089.0  # Jan-Mar 2025 average: Jan-May 19,132 minus Apr and May, / 3
MAGNETS_OBSERVED = {
    4: 2628.0,   # derived: May 1,238 was -52.9% m/m -> April = 1,238 / 0.471
    5: 1238.0,   # customs via Reuters (EconoTimes)
    6: 3188.0,   # derived: Jan-Jul 27,897 - Jan-May 19,132 - Jul 5,577
    7: 5577.0,   # customs via Reuters (Kitco)
    8: 6146.0,   # customs via Samarium.dev
    10: 5490.0,  # implied from Nov's +12% m/m (Rare Earth Exchanges), approximate
    11: 6150.0,  # Reuters/Bloomberg via Rare Earth Exchanges, approximate
}
MAGNETS_PRIOR_YEAR = {  # 2024, derived from the 2025 figures and their y/y changes
    5: 1238.0 / (1 - 0.74),   # 4,762
    7: 5577.0 / 1.057,        # 5,276
    8: 6146.0 / 1.154,        # 5,326
}
MAGNETS_FIT_MONTHS = (4, 5, 6, 7)      # used to fit the two parameters
MAGNETS_HOLDOUT_MONTHS = (8, 10, 11)   # not used for fitting
# Band: 2x the largest month-on-month change seen in unshocked months (Oct -> Nov 2025,
# +12%), as a share of the pre-shock level: 0.25 x 5,089 = 1,272 t.
MAGNETS_BAND_T = 0.25 * MAGNETS_PRE_SHOCK
# May y/y: -74% for magnets, -61% for the wider "rare earth products" group (Bloomberg);
# the band is the observed value +/- that 13-point spread.
MAGNETS_MAY_YOY = (-0.74 - 0.13, -0.74 + 0.13)
US_BOUND_NORMAL, US_BOUND_MAY = 600.0, 50.0   # Bloomberg via The West: <50 t in May vs ~600

# 2010 rare-earth episode (data/sources.csv: hist-ree-quota-2009-10, hist-ree-japan-demand-2010-11,
# hist-ree-japan-embargo-2010, hist-ree-dy-price-2009-11)
REE2010_QUOTA = {2009: 50000.0, 2010: 30000.0, 2011: 30000.0}  # 2011: ~2010 level (ASSUMPTION)
REE2010_EXPORT_CHANGE = -0.40           # 2010 vs 2009 quota (JMB; NYT)
REE2010_EXPORT_BAND = (-0.45, -0.35)    # -40% annual vs -35% first-batch comparison
REE2010_JAPAN = {2010: 31000.0, 2011: 23000.0}   # Japanese REE demand (press digest, L-M)
REE2010_JAPAN_CHANGE = 23000.0 / 31000.0 - 1      # -25.8%
REE2010_JAPAN_BAND = (REE2010_JAPAN_CHANGE - 0.10, REE2010_JAPAN_CHANGE + 0.10)
REE2010_EMBARGO = (dt.date(2010, 9, 21), dt.date(2010, 11, 20))
REE2010_PRICE_SPIKE = dt.date(2010, 12, 21)  # "prices barely moved for ~3 months after the halt" (Adamas)

# 2023 gallium and germanium licensing (data/sources.csv: gage-controls-2023, gage-exports-aug-2023,
# gage-licence-review-2023, ree-licence-delay-observed-2025)
GAGE_JULY = {"gallium": 5.15, "germanium": 8.63}   # t, July 2023, inflated by pre-deadline buying
GAGE_AUGUST = {"gallium": 0.0, "germanium": 0.0}   # t, August 2023 (Reuters via CNBC)
GAGE_AUGUST_BAND_T = 0.005                         # half the reported precision (0.01 t)
GAGE_START = dt.date(2023, 8, 1)
GAGE_FIRST_LICENCES = dt.date(2023, 9, 21)         # first licences reported (Metal Bulletin)
GAGE_FIRST_BAND_DAYS = 21                          # spread of observed reviews, 45-60 wd = 15 wd ~ 21 days


def _monthly(ts: pd.DataFrame, nodes, metric: str) -> pd.DataFrame:
    """Sum of a metric over nodes per (replication, calendar month)."""
    sel = ts[ts["node"].isin(list(nodes)) & (ts["metric"] == metric)]
    month = sel["date"].dt.to_period("M")
    return sel.groupby(["replication", month], observed=True)["value"].sum().unstack("date")


def magnets_2025(replications: int = 40, seed: int | None = None) -> dict:
    """China's magnet exports after April 2025: simulated months vs customs data."""
    res = sim.run(HERE / "magnets-2025.yaml", replications=replications, seed=seed)
    per_rep = _monthly(res.timeseries, ["cn_magnets_listed", "cn_magnets_free"], "shipped")
    per_rep.columns = [p.month for p in per_rep.columns]
    sim_mean, p05, p95 = per_rep.mean(), per_rep.quantile(0.05), per_rep.quantile(0.95)
    rows = []
    for m, obs in MAGNETS_OBSERVED.items():
        err = sim_mean[m] - obs
        rows.append({"month": f"2025-{m:02d}", "observed_t": obs, "simulated_t": sim_mean[m],
                     "sim_p05_t": p05[m], "sim_p95_t": p95[m], "error_t": err,
                     "error_pct_of_observed": err / obs, "error_pct_of_pre_shock": err / MAGNETS_PRE_SHOCK,
                     "use": "fitted" if m in MAGNETS_FIT_MONTHS else "out-of-sample",
                     "within_band": abs(err) <= MAGNETS_BAND_T})
    table = pd.DataFrame(rows)
    ts = res.timeseries
    us_sel = ts[(ts["metric"] == "received") & (ts["node"] == "us_magnet_buyers")]
    # US-bound shipments leave 35 days before they are received: count by departure month
    us_ship = us_sel.assign(date=us_sel["date"] - pd.Timedelta(days=35))
    us_may = us_ship[us_ship["date"].dt.month == 5].groupby("replication")["value"].sum().mean()
    may_yoy = sim_mean[5] / MAGNETS_PRIOR_YEAR[5] - 1
    jul_yoy = sim_mean[7] / MAGNETS_PRIOR_YEAR[7] - 1
    trough = int(sim_mean.loc[4:7].idxmin())
    return {"table": table, "monthly_mean": sim_mean, "monthly_p05": p05, "monthly_p95": p95,
            "may_yoy": may_yoy, "jul_yoy": jul_yoy, "trough_month": trough, "us_may_t": us_may,
            "rmse_fit": float(np.sqrt((table[table.use == "fitted"]["error_t"] ** 2).mean())),
            "rmse_holdout": float(np.sqrt((table[table.use == "out-of-sample"]["error_t"] ** 2).mean()))}


def rare_earths_2010() -> dict:
    """The 2010 quota cut and Japan embargo: annual exports and Japan's consumption."""
    res = sim.run(HERE / "rare-earths-2010.yaml")
    ts = res.timeseries
    ts = ts[ts["replication"] == 0]

    def yearly(node, metric):
        s = ts[(ts["node"] == node) & (ts["metric"] == metric)]
        return s.groupby(s["date"].dt.year)["value"].sum()

    exports = yearly("cn_ree_exporters", "shipped")
    japan = yearly("jp_ree_users", "delivered")
    cn_shipped = ts[(ts["node"] == "cn_ree_exporters") & (ts["metric"] == "shipped")]
    short = ts[(ts["node"] == "jp_ree_users") & (ts["metric"] == "shortfall") & (ts["value"] > 1e-9)]
    first_short = short["date"].min().date() if len(short) else None
    export_change = exports[2010] / exports[2009] - 1
    japan_change = japan[2011] / japan[2010] - 1
    table = pd.DataFrame([
        {"measure": "China REE exports, 2010 vs 2009", "observed": REE2010_EXPORT_CHANGE,
         "simulated": export_change, "band_low": REE2010_EXPORT_BAND[0], "band_high": REE2010_EXPORT_BAND[1],
         "use": "out-of-sample (mostly set by the quota input)"},
        {"measure": "Japan REE use, 2011 vs 2010", "observed": REE2010_JAPAN_CHANGE,
         "simulated": japan_change, "band_low": REE2010_JAPAN_BAND[0], "band_high": REE2010_JAPAN_BAND[1],
         "use": "out-of-sample"},
    ])
    table["error_pp"] = (table["simulated"] - table["observed"]) * 100
    table["within_band"] = table["simulated"].between(table["band_low"], table["band_high"])
    quarterly_japan = ts[(ts["node"] == "jp_ree_users") & (ts["metric"] == "delivered")]
    quarterly_japan = quarterly_japan.groupby(quarterly_japan["date"].dt.to_period("Q"))["value"].sum()
    monthly_exports = cn_shipped.groupby(cn_shipped["date"].dt.to_period("M"))["value"].sum()
    return {"table": table, "exports": exports, "japan": japan, "first_japan_shortfall": first_short,
            "quarterly_japan": quarterly_japan, "monthly_exports": monthly_exports}


def gallium_germanium_2023(replications: int = 40, seed: int | None = None) -> dict:
    """Ga/Ge exports around the August 2023 licensing: August, July and first licences."""
    res = sim.run(HERE / "gallium-germanium-2023.yaml", replications=replications, seed=seed)
    ts = res.timeseries
    out = {"monthly": {}, "first_shipment": {}}
    rows = []
    for metal, node in (("gallium", "cn_gallium"), ("germanium", "cn_germanium")):
        per_rep = _monthly(ts, [node], "shipped")
        per_rep.columns = [p.month for p in per_rep.columns]
        mean = per_rep.mean()
        out["monthly"][metal] = mean
        normal = mean.loc[1:6].mean()
        shipped = ts[(ts["node"] == node) & (ts["metric"] == "shipped") & (ts["value"] > 1e-9)
                     & (ts["date"].dt.date >= GAGE_START)]
        first = shipped.groupby("replication")["date"].min()
        days = (first - pd.Timestamp(GAGE_START)).dt.days
        out["first_shipment"][metal] = days
        median_day = GAGE_START + dt.timedelta(days=int(days.median()))
        rows += [
            {"metal": metal, "measure": "exports in Aug 2023, t", "observed": GAGE_AUGUST[metal],
             "simulated": mean[8], "error": mean[8] - GAGE_AUGUST[metal],
             "band": f"<= {GAGE_AUGUST_BAND_T} t", "within_band": abs(mean[8]) <= GAGE_AUGUST_BAND_T},
            {"metal": metal, "measure": "July 2023 above a normal month (pre-deadline buying)",
             "observed": f"yes ({GAGE_JULY[metal]} t, 'inflated')", "simulated": f"{mean[7] / normal:.2f}x normal",
             "error": "", "band": "> 1x", "within_band": mean[7] / normal > 1.0},
            {"metal": metal, "measure": "first licensed export after 1 Aug 2023",
             "observed": GAGE_FIRST_LICENCES.isoformat(), "simulated": median_day.isoformat(),
             "error": f"{(median_day - GAGE_FIRST_LICENCES).days:+d} days",
             "band": f"+/- {GAGE_FIRST_BAND_DAYS} days",
             "within_band": abs((median_day - GAGE_FIRST_LICENCES).days) <= GAGE_FIRST_BAND_DAYS},
        ]
    out["table"] = pd.DataFrame(rows)
    return out


# --------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------

def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _x(day: dt.date) -> float:
    """x position of a date on a chart whose month totals sit at integer months (mid-month)."""
    return day.month + (day.day - 1) / 30.0 - 0.5


def chart_magnets(result: dict, path: Path) -> None:
    plt = _plt()
    months = np.arange(1, 13)
    mean = result["monthly_mean"].reindex(months)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.fill_between(months, result["monthly_p05"].reindex(months), result["monthly_p95"].reindex(months),
                    color="tab:blue", alpha=0.2, label="simulated, 5-95% over replications")
    ax.plot(months, mean, color="tab:blue", marker="o", ms=3, label="simulated (mean)")
    fit = [m for m in MAGNETS_OBSERVED if m in MAGNETS_FIT_MONTHS]
    hold = [m for m in MAGNETS_OBSERVED if m in MAGNETS_HOLDOUT_MONTHS]
    ax.errorbar(fit, [MAGNETS_OBSERVED[m] for m in fit], yerr=MAGNETS_BAND_T, fmt="s", color="black",
                capsize=3, label="observed, used for fitting (with error band)")
    ax.errorbar(hold, [MAGNETS_OBSERVED[m] for m in hold], yerr=MAGNETS_BAND_T, fmt="D", color="tab:red",
                capsize=3, mfc="white", label="observed, out-of-sample (with error band)")
    ax.plot(list(MAGNETS_PRIOR_YEAR), list(MAGNETS_PRIOR_YEAR.values()), "x", color="grey",
            label="same month of 2024 (derived)")
    ax.hlines(MAGNETS_PRE_SHOCK, 0.6, 3.4, color="black", lw=1.5, ls=":", label="observed Jan-Mar 2025 average")
    for day, text in ((dt.date(2025, 4, 4), "licensing\n4 Apr"), (dt.date(2025, 6, 2), "deals\n2 Jun")):
        ax.axvline(_x(day), color="grey", lw=0.8, ls="--")
        ax.text(_x(day) + 0.05, 200, text, fontsize=8, color="grey")
    ax.set_xticks(months, ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])
    ax.set_ylabel("t per month")
    ax.set_ylim(0, 8000)
    ax.set_title("China's NdFeB magnet exports, 2025: replay vs customs data")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def chart_2010(result: dict, path: Path) -> None:
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    years = [2009, 2010, 2011]
    a.bar([y - 0.2 for y in years], [REE2010_QUOTA[y] for y in years], width=0.4, color="lightgrey",
          label="observed quota (2011: ASSUMPTION ~2010)")
    a.bar([y + 0.2 for y in years], [result["exports"][y] for y in years], width=0.4, color="tab:blue",
          label="simulated exports")
    a.set_xticks(years)
    a.set_ylabel("t REO per year")
    a.set_title("China's rare-earth exports")
    a.legend(fontsize=8)
    q = result["quarterly_japan"]
    b.plot([p.start_time for p in q.index], q.values * 4, color="tab:blue", marker="o", ms=3,
           label="simulated Japanese use (quarter x 4)")
    for year, value in REE2010_JAPAN.items():
        b.hlines(value, pd.Timestamp(f"{year}-01-01"), pd.Timestamp(f"{year}-12-31"), color="black", lw=2,
                 label="observed Japanese demand" if year == 2010 else None)
    b.axvspan(pd.Timestamp(REE2010_EMBARGO[0]), pd.Timestamp(REE2010_EMBARGO[1]), color="tab:red", alpha=0.15,
              label="informal embargo on Japan")
    b.axvline(pd.Timestamp("2010-07-01"), color="grey", ls="--", lw=0.8)
    b.text(pd.Timestamp("2010-07-10"), 12000, "2H-2010\nquota -72%", fontsize=8, color="grey")
    import matplotlib.dates as mdates
    b.xaxis.set_major_locator(mdates.YearLocator())
    b.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    b.set_ylim(0, 40000)
    b.set_ylabel("t per year (annualised)")
    b.set_title("Japan's rare-earth use")
    b.legend(fontsize=7, loc="lower left")
    fig.suptitle("2010 rare-earth quota cut: replay vs record")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def chart_gage(result: dict, path: Path) -> None:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    months = np.arange(1, 13)
    for ax, metal in zip(axes, ("gallium", "germanium")):
        mean = result["monthly"][metal].reindex(months)
        ax.plot(months, mean, color="tab:blue", marker="o", ms=3, label="simulated exports (mean)")
        ax.plot([7, 8], [GAGE_JULY[metal], GAGE_AUGUST[metal]], "s", color="black", label="observed (Jul, Aug)")
        ax.axvline(_x(dt.date(2023, 7, 3)), color="grey", ls=":", lw=0.8)
        ax.axvline(_x(GAGE_START), color="grey", ls="--", lw=0.8)
        ax.axvline(_x(GAGE_FIRST_LICENCES), color="black", lw=1.2, label="first licences reported (21 Sep)")
        days = result["first_shipment"][metal]
        sim_first = [_x(GAGE_START + dt.timedelta(days=int(d))) for d in days]
        ax.axvspan(min(sim_first), max(sim_first), color="tab:blue", alpha=0.15,
                   label="simulated first licensed export (range)")
        ax.set_title(metal)
        ax.set_xticks(months, ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"])
        ax.set_ylabel("t per month")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("China's gallium and germanium exports, 2023: replay vs record (normal volumes are ASSUMPTIONS)")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    mag = magnets_2025()
    mag["table"].to_csv(OUT / "validation_magnets_2025.csv", index=False, float_format="%.3f")
    chart_magnets(mag, OUT / "validation_magnets_2025.png")
    ree = rare_earths_2010()
    ree["table"].to_csv(OUT / "validation_rare_earths_2010.csv", index=False, float_format="%.4f")
    chart_2010(ree, OUT / "validation_rare_earths_2010.png")
    gage = gallium_germanium_2023()
    gage["table"].to_csv(OUT / "validation_gallium_germanium_2023.csv", index=False, float_format="%.3f")
    chart_gage(gage, OUT / "validation_gallium_germanium_2023.png")

    pd.set_option("display.width", 200)
    print("== Magnets 2025")
    print(mag["table"].round(3).to_string(index=False))
    print(f"RMSE fitted months {mag['rmse_fit']:.0f} t, out-of-sample {mag['rmse_holdout']:.0f} t; "
          f"May y/y {mag['may_yoy']:+.1%}, July y/y {mag['jul_yoy']:+.1%}, trough month {mag['trough_month']}, "
          f"US-bound May {mag['us_may_t']:.0f} t")
    print("== Rare earths 2010")
    print(ree["table"].round(4).to_string(index=False))
    print(f"exports {ree['exports'].round(0).to_dict()}, Japan use {ree['japan'].round(0).to_dict()}, "
          f"first Japanese shortfall {ree['first_japan_shortfall']}")
    print("== Gallium and germanium 2023")
    print(gage["table"].to_string(index=False))


if __name__ == "__main__":
    main()
