"""Replay the historical episodes and put the simulated path next to the observed one.

    .venv/bin/python scenarios/history/make_validation_charts.py

Runs the four replays in this folder with ``sim.run``, writes one chart (PNG) and one
small CSV per episode to ``reports/scenarios/``, and prints the error tables used in
``docs/validation.md``. Every error band is read from ``bands.yaml`` (committed before
the replays it judges were run); every observed figure is also scored by the CRPS of the
replications (``sim.scoring``). ``tests/test_history.py`` imports the functions below
and checks the bands, so the tables, the charts and the tests share one code path.

Observed figures: as cited in docs/validation.md; where a
figure is derived from others (a month implied by a cumulative total or a percentage
change), the derivation is written next to it.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import sim
from sim.scoring import crps_ensemble

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "reports" / "scenarios"
BANDS = yaml.safe_load((HERE / "bands.yaml").read_text(encoding="utf-8"))

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
# Bands: bands.yaml (magnets_2025), with their derivations.
_MB = BANDS["magnets_2025"]
MAGNETS_BAND_T = float(_MB["monthly_exports"]["band_t"])            # set after a first look (after_look)
MAGNETS_STRICT_BAND_T = float(_MB["monthly_exports_strict"]["band_t"])  # stated before the run
MAGNETS_MAY_YOY = tuple(_MB["may_yoy"]["band"])
MAGNETS_ALT_SHARE = float(_MB["share_discrimination"]["alternative_share"])
MAGNETS_FITTED_SHARE = 0.30
US_BOUND_NORMAL, US_BOUND_MAY = 600.0, float(_MB["us_bound_may_t"]["observed"])   # Bloomberg via The West

# 2010 rare-earth episode (data/sources.csv: hist-ree-quota-2009-10, hist-ree-japan-demand-2010-11,
# hist-ree-japan-embargo-2010, hist-ree-dy-price-2009-11)
# hist-ree-exports-2009-11: China's actual exports, scored instead of the quota.
REE2010_QUOTA = {2009: 50000.0, 2010: 30000.0, 2011: 30000.0}  # 2011: ~2010 level (ASSUMPTION)
REE2010_EXPORTS = {2009: 39813.0 / (1 - 0.093), 2010: 39813.0, 2011: 16900.0}  # 2009 derived from the -9.3%
_RB = BANDS["rare_earths_2010"]
REE2010_EXPORT_CHANGE = float(_RB["exports_2010_vs_2009"]["observed"])     # -9.3%
REE2010_EXPORT_BAND = tuple(_RB["exports_2010_vs_2009"]["band"])
REE2010_EXPORT_2011_CHANGE = float(_RB["exports_2011_vs_2010"]["observed"])  # 16,900 / 39,813 - 1
REE2010_EXPORT_2011_BAND = tuple(_RB["exports_2011_vs_2010"]["band"])
REE2010_JAPAN = {2010: 31000.0, 2011: 23000.0}   # Japanese REE demand (press digest, L-M)
REE2010_JAPAN_CHANGE = float(_RB["japan_use_2011_vs_2010"]["observed"])      # -25.8%
REE2010_JAPAN_BAND = tuple(_RB["japan_use_2011_vs_2010"]["band"])
REE2010_EMBARGO = (dt.date(2010, 9, 21), dt.date(2010, 11, 20))
REE2010_PRICE_SPIKE = dt.date(2010, 12, 21)  # "prices barely moved for ~3 months after the halt" (Adamas)

# 2023 gallium and germanium licensing (data/sources.csv: gage-controls-2023, gage-exports-aug-2023,
# gage-licence-review-2023, ree-licence-delay-observed-2025)
GAGE_JULY = {"gallium": 5.15, "germanium": 8.63}   # t, July 2023, inflated by pre-deadline buying
GAGE_AUGUST = {"gallium": 0.0, "germanium": 0.0}   # t, August 2023 (Reuters via CNBC)
_GB = BANDS["gallium_germanium_2023"]
GAGE_AUGUST_BAND_T = float(_GB["august_exports_t"]["band_t"])   # half the reported precision (0.01 t)
GAGE_START = dt.date(2023, 8, 1)
GAGE_FIRST_LICENCES = _GB["first_licensed_export_days"]["observed"]   # first licences reported (Metal Bulletin)
GAGE_FIRST_BAND_DAYS = int(_GB["first_licensed_export_days"]["band_days"])
# Observed share of a normal month (hist-gage-exports-sep-2023, -oct-2023, -nov-2023): the 2023
# month over the same month of 2022; bands.yaml gives the derivation.
GAGE_MONTHLY = {metal: {int(m): float(v) for m, v in shares.items()}
                for metal, shares in _GB["monthly_share_of_normal"]["observed"].items()}
GAGE_GE_JULY_SPIKE = float(_GB["germanium_july_spike"]["observed"])
GAGE_GE_JULY_BAND = tuple(_GB["germanium_july_spike"]["band"])


def gage_month_band(metal: str, month: int) -> tuple[float, float]:
    """Band of a month's share of normal: from r to r x (2022 level / 2023 level), padded."""
    spec = _GB["monthly_share_of_normal"]
    r = GAGE_MONTHLY[metal][month]
    k = float(spec["level_ratio_2022_to_2023"][metal])
    pad = float(spec["pad"])
    return min(r, r * k) - pad, max(r, r * k) + pad


# H20 sales to China, 2025 (acc-h20-q1fy26-2025, acc-h20-china-2024, acc-h20-licence-2025,
# acc-h20-resale-deal-2025, acc-cn-cac-nvidia-order-2025); Nvidia's fiscal quarters.
_HB = BANDS["h20_china_2025"]
H20_Q1 = (dt.date(2025, 1, 27), dt.date(2025, 4, 27))
H20_AFTER = tuple(_HB["after_q1_units"]["window"])
H20_Q1_OBSERVED = float(_HB["q1_fy26_units"]["observed"])
H20_Q1_BAND = tuple(_HB["q1_fy26_units"]["band"])
H20_AFTER_OBSERVED = float(_HB["after_q1_units"]["observed"])
H20_AFTER_BAND_MAX = float(_HB["after_q1_units"]["band_max"])


def _monthly(ts: pd.DataFrame, nodes, metric: str) -> pd.DataFrame:
    """Sum of a metric over nodes per (replication, calendar month)."""
    sel = ts[ts["node"].isin(list(nodes)) & (ts["metric"] == metric)]
    month = sel["date"].dt.to_period("M")
    return sel.groupby(["replication", month], observed=True)["value"].sum().unstack("date")


def with_licence_free_share(scenario, share: float):
    """The magnet replay with another licence-free share on every destination's lanes."""
    lanes = [lane.model_copy(update={"share": share if lane.from_ == "cn_magnets_free" else 1 - share})
             for lane in scenario.lanes]
    return scenario.model_copy(update={"lanes": lanes})


def magnets_2025(replications: int = 40, seed: int | None = None, share: float | None = None) -> dict:
    """China's magnet exports after April 2025: simulated months vs customs data, with CRPS."""
    scenario = sim.load_scenario(HERE / "magnets-2025.yaml")
    if share is not None:
        scenario = with_licence_free_share(scenario, share)
    res = sim.run(scenario, replications=replications, seed=seed)
    per_rep = _monthly(res.timeseries, ["cn_magnets_listed", "cn_magnets_free"], "shipped")
    per_rep.columns = [p.month for p in per_rep.columns]
    sim_mean, p05, p95 = per_rep.mean(), per_rep.quantile(0.05), per_rep.quantile(0.95)
    rows = []
    for m, obs in MAGNETS_OBSERVED.items():
        err = sim_mean[m] - obs
        rows.append({"month": f"2025-{m:02d}", "observed_t": obs, "simulated_t": sim_mean[m],
                     "sim_p05_t": p05[m], "sim_p95_t": p95[m], "error_t": err,
                     "error_pct_of_observed": err / obs, "error_pct_of_pre_shock": err / MAGNETS_PRE_SHOCK,
                     "crps_t": crps_ensemble(per_rep[m], obs),
                     "use": "fitted" if m in MAGNETS_FIT_MONTHS else "out-of-sample",
                     "within_band": abs(err) <= MAGNETS_BAND_T,
                     "within_strict_band": abs(err) <= MAGNETS_STRICT_BAND_T})
    table = pd.DataFrame(rows)
    ts = res.timeseries
    us_sel = ts[(ts["metric"] == "received") & (ts["node"] == "us_magnet_buyers")]
    # US-bound shipments leave 35 days before they are received: count by departure month
    us_ship = us_sel.assign(date=us_sel["date"] - pd.Timedelta(days=35))
    us_may = us_ship[us_ship["date"].dt.month == 5].groupby("replication")["value"].sum().mean()
    may_yoy = sim_mean[5] / MAGNETS_PRIOR_YEAR[5] - 1
    jul_yoy = sim_mean[7] / MAGNETS_PRIOR_YEAR[7] - 1
    trough = int(sim_mean.loc[4:7].idxmin())
    hold = table[table.use == "out-of-sample"]
    return {"table": table, "monthly_mean": sim_mean, "monthly_p05": p05, "monthly_p95": p95,
            "may_yoy": may_yoy, "jul_yoy": jul_yoy, "trough_month": trough, "us_may_t": us_may,
            "rmse_fit": float(np.sqrt((table[table.use == "fitted"]["error_t"] ** 2).mean())),
            "rmse_holdout": float(np.sqrt((hold["error_t"] ** 2).mean())),
            "crps_holdout": float(hold["crps_t"].mean())}


def share_discrimination(replications: int = 40, seed: int | None = None) -> dict:
    """Do the held-out months tell the fitted share (0.30) from the alternative (0.50)?

    The criterion is the one stated in bands.yaml before the run: the alternative leaves
    the band in a held-out month, or its mean held-out CRPS is at least 25% above."""
    fitted = magnets_2025(replications, seed, share=MAGNETS_FITTED_SHARE)
    alt = magnets_2025(replications, seed, share=MAGNETS_ALT_SHARE)
    alt_hold = alt["table"][alt["table"].use == "out-of-sample"]
    leaves_band = bool((~alt_hold["within_band"]).any())
    crps_ratio = alt["crps_holdout"] / fitted["crps_holdout"]
    return {"fitted": fitted, "alternative": alt, "alt_leaves_band": leaves_band, "crps_ratio": crps_ratio,
            "discriminates": leaves_band or crps_ratio >= 1.25}


def rare_earths_2010(file: str = "rare-earths-2010.yaml") -> dict:
    """The 2010 quota cut and Japan embargo, scored against China's actual exports
    (``file``: the first replay, or its second step with the 2009 base from exports)."""
    res = sim.run(HERE / file)
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
    rows = [("China REE exports, 2010 vs 2009", REE2010_EXPORT_CHANGE, exports[2010] / exports[2009] - 1,
             REE2010_EXPORT_BAND),
            ("China REE exports, 2011 vs 2010", REE2010_EXPORT_2011_CHANGE, exports[2011] / exports[2010] - 1,
             REE2010_EXPORT_2011_BAND),
            ("Japan REE use, 2011 vs 2010", REE2010_JAPAN_CHANGE, japan[2011] / japan[2010] - 1, REE2010_JAPAN_BAND)]
    table = pd.DataFrame([{"measure": name, "observed": obs, "simulated": simulated, "band_low": band[0],
                           "band_high": band[1], "use": "out-of-sample"} for name, obs, simulated, band in rows])
    table["error_pp"] = (table["simulated"] - table["observed"]) * 100
    # one replication (nothing is random): the CRPS is the absolute error, in points
    table["crps_pp"] = [crps_ensemble([s], o) * 100 for s, o in zip(table["simulated"], table["observed"], strict=True)]
    table["within_band"] = table["simulated"].between(table["band_low"], table["band_high"])
    quarterly_japan = ts[(ts["node"] == "jp_ree_users") & (ts["metric"] == "delivered")]
    quarterly_japan = quarterly_japan.groupby(quarterly_japan["date"].dt.to_period("Q"))["value"].sum()
    monthly_exports = cn_shipped.groupby(cn_shipped["date"].dt.to_period("M"))["value"].sum()
    return {"table": table, "exports": exports, "japan": japan, "first_japan_shortfall": first_short,
            "quarterly_japan": quarterly_japan, "monthly_exports": monthly_exports,
            "exports_vs_quota_2010": exports[2010] / REE2010_QUOTA[2010] - 1}


def _gage_rows(metal: str, per_rep: pd.DataFrame, first_days: pd.Series) -> list[dict]:
    """Scored rows of one metal: Sep-Nov shares of normal, the germanium July spike, the
    first licensed export (days after 1 Aug), each with its band and CRPS."""
    normal = per_rep.loc[:, 1:6].mean(axis=1)
    rows = []
    for month, obs in GAGE_MONTHLY[metal].items():
        share = per_rep[month] / normal
        low, high = gage_month_band(metal, month)
        rows.append({"metal": metal, "measure": f"2023-{month:02d} exports, share of a normal month",
                     "observed": obs, "simulated": share.mean(), "error": share.mean() - obs,
                     "band_low": low, "band_high": high, "crps": crps_ensemble(share, obs),
                     "within_band": low <= share.mean() <= high})
    if metal == "germanium":
        spike = per_rep[7] / normal
        low, high = GAGE_GE_JULY_BAND
        rows.append({"metal": metal, "measure": "July 2023 over the Jan-Jun 2023 mean", "observed": GAGE_GE_JULY_SPIKE,
                     "simulated": spike.mean(), "error": spike.mean() - GAGE_GE_JULY_SPIKE, "band_low": low,
                     "band_high": high, "crps": crps_ensemble(spike, GAGE_GE_JULY_SPIKE),
                     "within_band": low <= spike.mean() <= high})
    obs_days = (GAGE_FIRST_LICENCES - GAGE_START).days
    median = float(first_days.median())
    rows.append({"metal": metal, "measure": "first licensed export, days after 1 Aug 2023 (median)",
                 "observed": obs_days, "simulated": median, "error": median - obs_days,
                 "band_low": obs_days - GAGE_FIRST_BAND_DAYS, "band_high": obs_days + GAGE_FIRST_BAND_DAYS,
                 "crps": crps_ensemble(first_days.astype(float), obs_days),
                 "within_band": abs(median - obs_days) <= GAGE_FIRST_BAND_DAYS})
    return rows


def gallium_germanium_2023(replications: int = 40, seed: int | None = None) -> dict:
    """Ga/Ge exports around the August 2023 licensing, scored against observed monthly exports."""
    res = sim.run(HERE / "gallium-germanium-2023.yaml", replications=replications, seed=seed)
    ts = res.timeseries
    out: dict = {"monthly": {}, "first_shipment": {}, "per_rep": {}}
    rows, checks = [], []
    for metal, node in (("gallium", "cn_gallium"), ("germanium", "cn_germanium")):
        per_rep = _monthly(ts, [node], "shipped").reindex(columns=pd.period_range("2023-01", "2023-12", freq="M"),
                                                           fill_value=0.0)
        per_rep.columns = [p.month for p in per_rep.columns]
        mean = per_rep.mean()
        out["monthly"][metal], out["per_rep"][metal] = mean, per_rep
        shipped = ts[(ts["node"] == node) & (ts["metric"] == "shipped") & (ts["value"] > 1e-9)
                     & (ts["date"].dt.date >= GAGE_START)]
        first = shipped.groupby("replication")["date"].min()
        days = (first - pd.Timestamp(GAGE_START)).dt.days
        out["first_shipment"][metal] = days
        rows += _gage_rows(metal, per_rep, days)
        # mechanics checks: set by inputs (review >= 45 working days; anticipation to 120 days)
        checks += [{"metal": metal, "check": "August exports, t (set by the review time)", "observed": 0.0,
                    "simulated": mean[8], "holds": abs(mean[8]) <= GAGE_AUGUST_BAND_T},
                   {"metal": metal, "check": "July over the Jan-Jun mean (set by the anticipation input)",
                    "observed": float("nan"), "simulated": mean[7] / mean.loc[1:6].mean(),
                    "holds": mean[7] > mean.loc[1:6].mean()}]
    out["table"] = pd.DataFrame(rows)
    out["checks"] = pd.DataFrame(checks)
    return out


def h20_2025() -> dict:
    """Nvidia's H20 sales to China, Q1 FY26 and Q2-Q4 FY26, against the reported sales."""
    res = sim.run(HERE / "h20-china-2025.yaml")
    ts = res.timeseries
    shipped = ts[(ts["node"] == "nvidia_h20") & (ts["metric"] == "shipped") & (ts["replication"] == 0)]
    daily = shipped.set_index("date")["value"]
    q1 = float(daily[pd.Timestamp(H20_Q1[0]):pd.Timestamp(H20_Q1[1])].sum())
    after = float(daily[pd.Timestamp(H20_AFTER[0]):pd.Timestamp(H20_AFTER[1])].sum())
    table = pd.DataFrame([
        {"measure": "H20s sold to China, Q1 FY26 (27 Jan - 27 Apr 2025)", "observed": H20_Q1_OBSERVED,
         "simulated": q1, "band_low": H20_Q1_BAND[0], "band_high": H20_Q1_BAND[1]},
        {"measure": "H20s sold to China, Q2-Q4 FY26 (28 Apr 2025 - 25 Jan 2026)", "observed": H20_AFTER_OBSERVED,
         "simulated": after, "band_low": 0.0, "band_high": H20_AFTER_BAND_MAX}])
    table["error"] = table["simulated"] - table["observed"]
    table["crps"] = [crps_ensemble([s], o) for s, o in zip(table["simulated"], table["observed"], strict=True)]  # one replication
    table["within_band"] = table["simulated"].between(table["band_low"], table["band_high"])
    return {"table": table, "monthly": daily.groupby(daily.index.to_period("M")).sum()}

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
    fig, ax = plt.subplots(figsize=(8, 5.4))
    ax.fill_between(months, result["monthly_p05"].reindex(months), result["monthly_p95"].reindex(months),
                    color="tab:blue", alpha=0.2, label="simulated, 5-95% over replications")
    ax.plot(months, mean, color="tab:blue", marker="o", ms=3, label="simulated (mean)")
    fit = [m for m in MAGNETS_OBSERVED if m in MAGNETS_FIT_MONTHS]
    hold = [m for m in MAGNETS_OBSERVED if m in MAGNETS_HOLDOUT_MONTHS]
    ax.errorbar(fit, [MAGNETS_OBSERVED[m] for m in fit], yerr=MAGNETS_BAND_T, fmt="s", color="black",
                capsize=3, label="observed, used for fitting (with the +-1,272 t band)")
    ax.errorbar(hold, [MAGNETS_OBSERVED[m] for m in hold], yerr=MAGNETS_BAND_T, fmt="D", color="tab:red",
                capsize=3, mfc="white", label="observed, out-of-sample (with the +-1,272 t band, set after a look)")
    ax.errorbar([m + 0.15 for m in hold], [MAGNETS_OBSERVED[m] for m in hold], yerr=MAGNETS_STRICT_BAND_T, fmt="none",
                ecolor="tab:red", elinewidth=2.5, capsize=0, label="+-611 t band, stated before the run")
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
    handles, labels = ax.get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, frameon=False)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def chart_2010(result: dict, path: Path) -> None:
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    years = [2009, 2010, 2011]
    a.bar([y - 0.27 for y in years], [REE2010_QUOTA[y] for y in years], width=0.27, color="lightgrey",
          label="quota (an input; 2011: ASSUMPTION ~2010)")
    a.bar(years, [REE2010_EXPORTS[y] for y in years], width=0.27, color="black",
          label="observed exports (2009 derived)")
    a.bar([y + 0.27 for y in years], [result["exports"][y] for y in years], width=0.27, color="tab:blue",
          label="simulated exports")
    a.set_xticks(years)
    a.set_ylim(0, 62000)
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
    for ax, metal in zip(axes, ("gallium", "germanium"), strict=True):
        mean = result["monthly"][metal].reindex(months)
        ax.plot(months, mean, color="tab:blue", marker="o", ms=3, label="simulated exports (mean)")
        ax.plot([7, 8], [GAGE_JULY[metal], GAGE_AUGUST[metal]], "s", color="black", label="observed (Jul, Aug)")
        normal = mean.loc[1:6].mean()
        later = sorted(GAGE_MONTHLY[metal])
        ax.errorbar(later, [GAGE_MONTHLY[metal][m] * normal for m in later],
                    yerr=[[(GAGE_MONTHLY[metal][m] - gage_month_band(metal, m)[0]) * normal for m in later],
                          [(gage_month_band(metal, m)[1] - GAGE_MONTHLY[metal][m]) * normal for m in later]],
                    fmt="D", color="tab:red", mfc="white", capsize=3,
                    label="observed share of a normal month x simulated normal (with band)")
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
    handles, labels = axes[0].get_legend_handles_labels()
    fig.suptitle("China's gallium and germanium exports, 2023: replay vs record (normal volumes are ASSUMPTIONS)")
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def chart_h20(result: dict, path: Path) -> None:
    plt = _plt()
    monthly = result["monthly"]
    fig, ax = plt.subplots(figsize=(8, 4))
    x = [p.start_time for p in monthly.index]
    ax.bar(x, monthly.values / 1000, width=25, align="edge", color="tab:blue", label="simulated H20s to China, per month")
    q1_low, q1_high = H20_Q1_BAND
    q1_days = (H20_Q1[1] - H20_Q1[0]).days + 1
    for value, style, label in ((H20_Q1_OBSERVED, "-", "observed Q1 FY26 (380 k), as a monthly rate"),
                                (q1_low, ":", "band (307-383 k)"), (q1_high, ":", None)):
        ax.hlines(value / q1_days * 30.4 / 1000, pd.Timestamp(H20_Q1[0]), pd.Timestamp(H20_Q1[1]), color="black",
                  ls=style, lw=1.5, label=label)
    ax.hlines(0, pd.Timestamp(H20_AFTER[0]), pd.Timestamp(H20_AFTER[1]), color="tab:red", lw=3,
              label="observed Q2-Q4 FY26: none (band: at most 8 k in all)")
    for day, text in ((dt.date(2025, 4, 14), "licence\nrequirement"), (dt.date(2025, 8, 11), "August\ndeal"),
                      (dt.date(2025, 9, 17), "CAC\norder")):
        ax.axvline(pd.Timestamp(day), color="grey", ls="--", lw=0.8)
        ax.text(pd.Timestamp(day) + pd.Timedelta(days=3), 140, text, fontsize=7, color="grey")
    ax.set_ylabel("thousand chips per month")
    ax.set_ylim(0, 175)
    ax.set_title("Nvidia H20 sales to China, 2025: replay vs reported sales")
    ax.legend(fontsize=7, loc="center right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    disc = share_discrimination()
    mag, alt = disc["fitted"], disc["alternative"]
    mag["table"].to_csv(OUT / "validation_magnets_2025.csv", index=False, float_format="%.3f")
    alt["table"].to_csv(OUT / "validation_magnets_2025_share_050.csv", index=False, float_format="%.3f")
    chart_magnets(mag, OUT / "validation_magnets_2025.png")
    ree = rare_earths_2010()
    ree["table"].to_csv(OUT / "validation_rare_earths_2010.csv", index=False, float_format="%.4f")
    chart_2010(ree, OUT / "validation_rare_earths_2010.png")
    ree_b = rare_earths_2010("rare-earths-2010-base2009.yaml")
    ree_b["table"].to_csv(OUT / "validation_rare_earths_2010_base2009.csv", index=False, float_format="%.4f")
    gage = gallium_germanium_2023()
    gage["table"].to_csv(OUT / "validation_gallium_germanium_2023.csv", index=False, float_format="%.3f")
    chart_gage(gage, OUT / "validation_gallium_germanium_2023.png")
    h20 = h20_2025()
    h20["table"].to_csv(OUT / "validation_h20_china_2025.csv", index=False, float_format="%.1f")
    chart_h20(h20, OUT / "validation_h20_china_2025.png")

    pd.set_option("display.width", 200)
    print("== Magnets 2025")
    print(mag["table"].round(3).to_string(index=False))
    print(f"RMSE fitted months {mag['rmse_fit']:.0f} t, out-of-sample {mag['rmse_holdout']:.0f} t; "
          f"May y/y {mag['may_yoy']:+.1%}, July y/y {mag['jul_yoy']:+.1%}, trough month {mag['trough_month']}, "
          f"US-bound May {mag['us_may_t']:.0f} t; mean CRPS held-out {mag['crps_holdout']:.0f} t")
    print(f"== Magnets 2025 with a licence-free share of {MAGNETS_ALT_SHARE}")
    print(alt["table"].round(3).to_string(index=False))
    print(f"RMSE fitted {alt['rmse_fit']:.0f} t, held-out {alt['rmse_holdout']:.0f} t; May y/y {alt['may_yoy']:+.1%}; "
          f"mean CRPS held-out {alt['crps_holdout']:.0f} t; leaves the band in a held-out month: "
          f"{disc['alt_leaves_band']}; CRPS ratio {disc['crps_ratio']:.2f}; discriminates: {disc['discriminates']}")
    print("== Rare earths 2010")
    print(ree["table"].round(4).to_string(index=False))
    print(f"exports {ree['exports'].round(0).to_dict()}, Japan use {ree['japan'].round(0).to_dict()}, "
          f"first Japanese shortfall {ree['first_japan_shortfall']}; "
          f"2010 exports vs the quota {ree['exports_vs_quota_2010']:+.1%} (mechanics check)")
    print("== Rare earths 2010, second step: the 2009 base from actual exports")
    print(ree_b["table"].round(4).to_string(index=False))
    print(f"exports {ree_b['exports'].round(0).to_dict()}, Japan use {ree_b['japan'].round(0).to_dict()}, "
          f"first Japanese shortfall {ree_b['first_japan_shortfall']}")
    print("== Gallium and germanium 2023")
    print(gage["table"].round(4).to_string(index=False))
    print(gage["checks"].round(3).to_string(index=False))
    print("== H20 to China 2025")
    print(h20["table"].round(1).to_string(index=False))


if __name__ == "__main__":
    main()
