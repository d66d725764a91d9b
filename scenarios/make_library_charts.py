"""Run the scenario library and draw its charts and headline table.

    .venv/bin/python scenarios/make_library_charts.py            # every scenario, full runs
    .venv/bin/python scenarios/make_library_charts.py 01 07      # only files starting so

Each scenario runs with its own horizon, replications and seed (as `chipsim run` would).
Charts (PNG) and small CSVs go to ``reports/scenarios/``; the headline numbers quoted in
``scenarios/README.md`` are printed and written to ``reports/scenarios/headlines.csv``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import sim

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "reports" / "scenarios"

FILES = [
    "reference", "01-ree-licensing-2025", "01b-ree-october-2025", "01c-ree-october-2025-no-pause",
    "controls-us-chips-2024", "02a-h20-licence-2025", "02b-h200-conditional-exports",
    "02c-h200-no-fee-without-customs-block", "02c-h200-fee-without-customs-block",
    "03-tool-controls-servicing", "03b-entity-list-affiliates",
    "04-smic-yield-vs-ascend", "04b-smic-eda-cutoff", "04c-smic-yield-stall",
    "05-china-state-dc-mandate", "06-gallium-germanium-us-ban", "06b-gallium-germanium-transshipment-closed",
    "07a-policy-eu-stockpile", "07b-policy-separation-ramp", "07c-policy-magnet-recycling",
    "07d-policy-licence-fast-track", "00-as-it-happened-2025-26", "04d-ascend-assembly-yield",
    "04e-ascend-quad-stacking", "07e-policy-triggered-separation", "07f-eu-magnet-plant", "07g-policy-eu-raw-stockpile",
    "08-tungsten-export-controls",
]
# the policy options and counterfactuals that are deltas of scenario 0 (compared with it)
DELTAS_OF_00 = ["07a-policy-eu-stockpile", "07b-policy-separation-ramp", "07c-policy-magnet-recycling",
                "07d-policy-licence-fast-track", "07e-policy-triggered-separation", "07f-eu-magnet-plant",
                "07g-policy-eu-raw-stockpile", "01c-ree-october-2025-no-pause"]  # (06b too, drawn with 06)
MAGNET_USERS = ["us_magnet_users", "eu_magnet_users", "row_magnet_users"]
CN_DC = ["cn_datacenters", "cn_state_dc_before", "cn_state_dc_mandated"]
CN_FABS = ["cn_smic_n7_ascend", "cn_smic_n7_cambricon", "cn_huawei_fabs"]
H200_BUYERS = ["cn_datacenters", "cn_state_dc_before"]  # who may buy H200s in 2c (a delta of 00)


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


class Run:
    """One scenario's results, with a few helpers for monthly and yearly sums."""

    def __init__(self, name: str):
        self.name = name
        t = time.time()
        self.res = sim.run(HERE / f"{name}.yaml")
        self.seconds = time.time() - t
        self.ts = self.res.timeseries
        self.reps = self.res.replications
        self.kpis = self.res.kpis.set_index(["node", "product"])

    def series(self, nodes, metric, product=None, freq="MS", how="sum"):
        """Mean over replications of a metric summed over nodes, per period."""
        ts = self.ts
        sel = ts[ts["node"].isin(list(nodes)) & (ts["metric"] == metric)]
        if product is not None:
            sel = sel[sel["product"].isin([product] if isinstance(product, str) else list(product))]
        daily = sel.groupby(["replication", "date"], observed=True)["value"].sum().unstack("replication")
        per = daily.resample(freq).sum() if how == "sum" else daily.resample(freq).mean()
        return per.mean(axis=1)

    def yearly(self, nodes, metric, product=None):
        s = self.series(nodes, metric, product, freq="YS")
        return {d.year: v for d, v in s.items()}

    def kpi(self, node, product, col="fill_rate"):
        return float(self.kpis.loc[(node, product), col])


def compute_delivered_by_year(run: Run, nodes) -> dict:
    return run.yearly(nodes, "compute_delivered")


def headlines(runs: dict) -> list[dict]:
    rows = []

    def add(name, what, value, unit=""):
        rows.append({"scenario": name, "headline": what, "value": value, "unit": unit})

    if "reference" in runs:
        r = runs["reference"]
        for node in ("us_datacenters", "cn_datacenters", "row_datacenters"):
            add("reference", f"{node} fill rate", r.kpi(node, "tflops_bf16"))
            for y, v in compute_delivered_by_year(r, [node]).items():
                add("reference", f"{node} compute delivered {y}", v / 1e9, "1e9 TFLOPS (BF16)")
            for y, v in r.yearly([node], "energy_mwh").items():
                add("reference", f"{node} load added in {y} (chips x kW, no PUE)", v * 365 / 1e6, "TWh/yr")
        short = sum(r.kpi(n, p, "shortfall") for n, p in r.kpis.index)
        add("reference", "total shortfall at demand nodes", short)
    for name in ["01-ree-licensing-2025", "01b-ree-october-2025", "00-as-it-happened-2025-26"] + DELTAS_OF_00:
        if name in runs:
            r = runs[name]
            for node in MAGNET_USERS:
                add(name, f"{node} fill rate", r.kpi(node, "ndfeb_magnet"))
                add(name, f"{node} shortfall", r.kpi(node, "ndfeb_magnet", "shortfall"), "t")
                add(name, f"{node} shortfall p05-p95",
                    f"{r.kpi(node, 'ndfeb_magnet', 'shortfall_p05'):.0f}-{r.kpi(node, 'ndfeb_magnet', 'shortfall_p95'):.0f}", "t")
            for y, v in r.yearly(["jp_magnets"], "produced").items():
                add(name, f"jp_magnets output {y}", v, "t")
            for y, v in r.yearly(["nl_asml_duv"], "produced").items():
                add(name, f"ASML DUV output {y}", v, "tools")
    for name in ("controls-us-chips-2024", "02a-h20-licence-2025", "02b-h200-conditional-exports",
                 "03-tool-controls-servicing", "03b-entity-list-affiliates", "05-china-state-dc-mandate",
                 "00-as-it-happened-2025-26", "04d-ascend-assembly-yield", "04e-ascend-quad-stacking"):
        if name in runs:
            r = runs[name]
            nodes = [n for n in CN_DC if (n, "tflops_bf16") in r.kpis.index]
            dem = sum(r.kpi(n, "tflops_bf16", "demand") for n in nodes)
            short = sum(r.kpi(n, "tflops_bf16", "shortfall") for n in nodes)
            add(name, "China compute fill rate (all Chinese DCs)", 1 - short / dem)
            for y, v in compute_delivered_by_year(r, nodes).items():
                add(name, f"China compute delivered {y}", v / 1e9, "1e9 TFLOPS (BF16)")
            for prod in ("accel_h20", "accel_h200_cn", "accel_ascend910b", "accel_ascend910c", "accel_ascend_stack4",
                         "accel_cambricon"):
                for y, v in r.yearly(nodes, "delivered", prod).items():
                    add(name, f"{prod} delivered to China {y}", v, "chips")
            for y, v in r.yearly(["cn_datacenters"], "cost", "accel_h200_cn").items():
                if v > 0:
                    add(name, f"US government share of H200 sales {y} (25% of value)", v * 0.25 / 1.25 / 1e9, "$bn")
            for n in ("us_datacenters", "row_datacenters"):
                add(name, f"{n} fill rate", r.kpi(n, "tflops_bf16"))
    rows += _h200_fee(runs)
    if "05-china-state-dc-mandate" in runs:
        r = runs["05-china-state-dc-mandate"]
        for node in CN_DC:
            add("05-china-state-dc-mandate", f"{node} fill rate", r.kpi(node, "tflops_bf16"))
            for y, v in compute_delivered_by_year(r, [node]).items():
                add("05-china-state-dc-mandate", f"{node} compute delivered {y}", v / 1e9, "1e9 TFLOPS (BF16)")
            for prod in ("accel_ascend910b", "accel_ascend910c", "accel_cambricon"):
                for y, v in r.yearly([node], "delivered", prod).items():
                    add("05-china-state-dc-mandate", f"{prod} delivered to {node} {y}", v, "chips")
    for name in ("03-tool-controls-servicing", "03b-entity-list-affiliates", "02b-h200-conditional-exports",
                 "00-as-it-happened-2025-26"):
        if name in runs:
            r = runs[name]
            cap = r.series(CN_FABS, "capacity", freq="D", how="mean")
            add(name, "China advanced logic wafer starts/day, first day", cap.iloc[0])
            add(name, "China advanced logic wafer starts/day, last day", cap.iloc[-1])
            cx = r.series(["cn_cxmt_hbm"], "capacity", freq="D", how="mean")
            add(name, "CXMT HBM stacks/day, last day", cx.iloc[-1])
            for y, v in r.yearly(["cn_ascend_910b", "cn_ascend_910c"], "produced").items():
                add(name, f"Ascend chips made {y}", v, "chips")
    for name in ("04-smic-yield-vs-ascend", "04b-smic-eda-cutoff", "04c-smic-yield-stall"):
        if name in runs:
            r = runs[name]
            ts = r.ts
            made = ts[ts["node"].isin(["cn_smic_n7_ascend", "cn_huawei_fabs"]) & (ts["metric"] == "produced")]
            used = ts[ts["node"].isin(["cn_ascend_910b", "cn_ascend_910c"]) & (ts["metric"] == "produced")]
            m = made.groupby(["replication", made["date"].dt.year])["value"].sum()
            u910c = used[used["node"] == "cn_ascend_910c"].groupby(["replication", used["date"].dt.year])["value"].sum()
            u910b = used[used["node"] == "cn_ascend_910b"].groupby(["replication", used["date"].dt.year])["value"].sum()
            for y in sorted(m.index.get_level_values(1).unique()):
                add(name, f"good Ascend dies made {y} (mean)", m.xs(y, level=1).mean(), "dies")
                add(name, f"910C made {y} (mean, p05)", f"{u910c.xs(y, level=1).mean():.0f} ({u910c.xs(y, level=1).quantile(0.05):.0f})", "chips")
                add(name, f"910B made {y} (mean)", u910b.xs(y, level=1).mean(), "chips")
    if "08-tungsten-export-controls" in runs:
        r = runs["08-tungsten-export-controls"]
        for node in ("tw_tsmc_n4_blackwell", "kr_skhynix_hbm"):
            for y, v in r.yearly([node], "produced").items():
                add("08-tungsten-export-controls", f"{node} output {y} (mean)", v)
    for name in ("06-gallium-germanium-us-ban", "06b-gallium-germanium-transshipment-closed"):
        if name in runs:
            r = runs[name]
            for node, prod in (("us_gallium_users", "gallium"), ("us_germanium_users", "germanium"),
                               ("row_gallium_users", "gallium"), ("row_germanium_users", "germanium")):
                add(name, f"{node} fill rate", r.kpi(node, prod))
    return rows


def _h200_fee(runs: dict) -> list[dict]:
    """Scenario 2c: H200 volumes to China with the 25% fee and without (no customs block).

    2c is a delta of scenario 0, so China's H200 buyers are its commercial and its
    state-funded (not yet mandated) data centres: volumes, compute and fees add the two.
    """
    rows, volume = [], {}
    for name in ("02c-h200-no-fee-without-customs-block", "02c-h200-fee-without-customs-block"):
        if name not in runs:
            continue
        r = runs[name]

        def add(what, value, unit="", name=name):
            rows.append({"scenario": name, "headline": what, "value": value, "unit": unit})

        for y, v in r.yearly(H200_BUYERS, "delivered", "accel_h200_cn").items():
            add(f"H200s delivered to China {y}", v, "chips")
            volume[(name, y)] = v
        for y, v in r.yearly(H200_BUYERS, "compute_delivered").items():
            add(f"China compute delivered {y}", v / 1e9, "1e9 TFLOPS (BF16)")
        for y, v in r.yearly(H200_BUYERS, "demand_destroyed").items():
            add(f"China compute demand destroyed by price {y}", v / 1e9, "1e9 TFLOPS (BF16)")
        for y, v in r.yearly(H200_BUYERS, "compute_shortfall").items():
            add(f"China compute shortfall {y}", v / 1e9, "1e9 TFLOPS (BF16)")
        for y, v in r.yearly([f"us_h200_inspection->{n}" for n in H200_BUYERS], "fee").items():
            add(f"US fee revenue on H200s for China {y}", v / 1e9, "$bn")
        mult = r.series(["cn_datacenters"], "price_multiplier", "accel_h200_cn", freq="YS", how="mean")
        for when, v in mult.items():
            add(f"China compute price multiplier (commercial DCs), mean of {when.year}", v, "ratio")
    for (name, y), v in volume.items():
        base = volume.get(("02c-h200-no-fee-without-customs-block", y))
        if name.startswith("02c-h200-fee") and base:
            rows.append({"scenario": name, "headline": f"H200 volume to China {y}, with the fee / without",
                         "value": v / base, "unit": "ratio (1.25^-1 = 0.8 if demand-limited)"})
    return rows


def chart_h200_fee(runs: dict) -> None:
    """2c: H200s reaching China each month, and China's unmet compute demand, with and without the fee."""
    pair = [("02c-h200-no-fee-without-customs-block", "no fee", "tab:blue", "-"),
            ("02c-h200-fee-without-customs-block", "25% fee", "tab:red", "--")]
    if not all(name in runs for name, *_ in pair):
        return
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for name, label, color, style in pair:
        r = runs[name]
        h = r.series(H200_BUYERS, "delivered", "accel_h200_cn", freq="MS")
        a.plot(h.index, h.values / 1e3, color=color, ls=style, label=label)
        for metric, what, width in (("demand_destroyed", "destroyed by price", 2.0), ("compute_shortfall", "short", 1.0)):
            s = r.series(H200_BUYERS, metric, freq="MS", how="mean")
            b.plot(s.index, s.values / 1e6, color=color, ls=style, lw=width, label=f"{what}, {label}")
    a.set_title("2c: H200s put into service in China (same with and without the fee)")
    a.set_ylabel("thousand chips a month")
    a.legend(fontsize=7)
    b.set_title("2c: China's unmet compute demand")
    b.set_ylabel("million TFLOPS a day (monthly mean)")
    b.legend(fontsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(OUT / "02c_h200_fee.png", dpi=120)
    plt.close(fig)


def chart(runs: dict) -> None:
    plt = _plt()
    OUT.mkdir(parents=True, exist_ok=True)
    chart_h200_fee(runs)

    if "reference" in runs:
        r = runs["reference"]
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        for node, color in (("us_datacenters", "tab:blue"), ("cn_datacenters", "tab:red"), ("row_datacenters", "tab:green")):
            s = r.series([node], "compute_delivered", freq="MS", how="mean")
            a.plot(s.index, s.values / 1e6, color=color, label=node)
            e = r.series([node], "energy_mwh", freq="D").cumsum() * 365 / 1e6
            b.plot(e.index, e.values, color=color, label=node)
        a.set_ylabel("million TFLOPS (BF16) a day")
        a.set_title("Compute delivered (= demand: no shortfall)")
        b.set_ylabel("TWh a year")
        b.set_title("Power of chips delivered since 1 Jan 2025\n(x 24 h x 365, no PUE, no retirement)")
        a.legend(fontsize=8)
        fig.suptitle("Reference network, unconstrained baseline")
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(OUT / "reference.png", dpi=120)
        plt.close(fig)

    names = [n for n in ("01-ree-licensing-2025", "01b-ree-october-2025", "00-as-it-happened-2025-26",
                         "01c-ree-october-2025-no-pause") if n in runs]
    if names:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for name, style in zip(names, ("-", "--", "-.", ":"), strict=False):
            for node, color in (("eu_magnet_users", "tab:blue"), ("us_magnet_users", "tab:red")):
                s = runs[name].series([node], "shortfall")
                axes[0].plot(s.index, s.values, style, color=color, label=f"{node.split('_')[0].upper()}, {name.split('-')[0]}")
        axes[0].set_ylabel("t short per month (mean)")
        axes[0].set_title("Magnet users' shortfall")
        axes[0].legend(fontsize=7)
        r = runs[names[0]]
        exp = r.series(MAGNET_USERS + ["nl_asml_duv", "nl_asml_euv", "us_depetch"], "received", "ndfeb_magnet")
        base = runs["reference"].series(MAGNET_USERS + ["nl_asml_duv", "nl_asml_euv", "us_depetch"], "received", "ndfeb_magnet") if "reference" in runs else None
        start = pd.Timestamp("2025-02-01")  # January is the start-up: nothing is in transit on day 0
        if base is not None:
            axes[1].plot(base.loc[start:].index, base.loc[start:].values, color="grey", label="reference")
        axes[1].plot(exp.loc[start:].index, exp.loc[start:].values, color="tab:blue", label=names[0].split("-")[0])
        axes[1].set_ylim(0, None)
        axes[1].set_ylabel("t received per month")
        axes[1].set_title("Magnets received by buyers outside China")
        axes[1].legend(fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(OUT / "01_rare_earth_licensing.png", dpi=120)
        plt.close(fig)

    names = [n for n in ("reference", "controls-us-chips-2024", "02a-h20-licence-2025", "02b-h200-conditional-exports") if n in runs]
    if "02b-h200-conditional-exports" in runs:
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
        for name in names:
            s = runs[name].series(["cn_datacenters"], "compute_delivered", freq="MS", how="mean")
            a.plot(s.index, s.values / 1e6, label=name)
        d = runs["reference"].series(["cn_datacenters"], "compute_demand", freq="MS", how="mean") if "reference" in runs else None
        if d is not None:
            a.plot(d.index, d.values / 1e6, color="black", ls=":", label="demand")
        a.set_ylabel("million TFLOPS a day")
        a.set_title("Compute delivered to Chinese data centers")
        a.legend(fontsize=7)
        r = runs["02b-h200-conditional-exports"]
        tf = {p: a_.attributes.get("tflops_bf16", 0) for p, a_ in r.res.scenario.products.items()}
        bottom = None
        for prod in ("accel_h20", "accel_h200_cn", "accel_ascend910c", "accel_ascend910b", "accel_cambricon"):
            s = r.series(["cn_datacenters"], "delivered", prod, freq="MS", how="mean") * tf[prod] / 1e6
            b.bar(s.index, s.values, width=25, bottom=None if bottom is None else bottom.values, label=prod)
            bottom = s if bottom is None else bottom + s
        b.set_title("02b: what China's data centers get, by chip")
        b.set_ylabel("million TFLOPS a day")
        b.legend(fontsize=7)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(OUT / "02_chip_controls.png", dpi=120)
        plt.close(fig)

    names = [n for n in ("02b-h200-conditional-exports", "03b-entity-list-affiliates", "00-as-it-happened-2025-26",
                          "03-tool-controls-servicing") if n in runs]  # 3b against 2b, 3a against 0
    if len(names) > 1:
        fig, (a, b, c) = plt.subplots(1, 3, figsize=(13, 4))
        for name in names:
            s = runs[name].series(["cn_smic_n7_ascend"], "capacity", freq="D", how="mean")
            a.plot(s.index, s.values * 30, label=name.split("-")[0])
            s = runs[name].series(["cn_cxmt_hbm"], "capacity", freq="D", how="mean")
            b.plot(s.index, s.values, label=name.split("-")[0])
            s = runs[name].series(["cn_ascend_910b", "cn_ascend_910c"], "produced", freq="QS")
            c.plot(s.index, s.values, marker="o", ms=3, label=name.split("-")[0])
        a.set_title("SMIC N+2 lines for Ascend: effective wafers/month")
        b.set_title("CXMT HBM: effective stacks/day")
        c.set_title("Ascend chips made per quarter")
        a.legend(fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(OUT / "03_tool_controls.png", dpi=120)
        plt.close(fig)

    names = [n for n in ("04-smic-yield-vs-ascend", "04b-smic-eda-cutoff", "04c-smic-yield-stall") if n in runs]
    if names:
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
        for name in names:
            s = runs[name].series(["cn_smic_n7_ascend", "cn_huawei_fabs"], "produced", freq="QS")
            a.plot(s.index, s.values / 1e3, marker="o", ms=3, label=name.split("-")[0])
            s = runs[name].series(["cn_ascend_910c"], "produced", freq="QS")
            b.plot(s.index, s.values / 1e3, marker="o", ms=3, label=name.split("-")[0])
        plan_dies = (runs[names[0]].series(["cn_ascend_910b"], "capacity", freq="QS")
                     + 2 * runs[names[0]].series(["cn_ascend_910c"], "capacity", freq="QS"))
        a.plot(plan_dies.index, plan_dies.values / 1e3, color="black", ls=":", label="dies the plan needs")
        a.set_title("Good Ascend dies per quarter (thousand)")
        b.set_title("910C made per quarter (thousand)")
        a.legend(fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(OUT / "04_smic_yield.png", dpi=120)
        plt.close(fig)

    if "05-china-state-dc-mandate" in runs:
        r = runs["05-china-state-dc-mandate"]
        fig, ax = plt.subplots(figsize=(8, 4))
        for node in CN_DC:
            s = r.series([node], "compute_delivered", freq="MS", how="mean")
            ax.plot(s.index, s.values / 1e6, label=node)
        if "02b-h200-conditional-exports" in runs:
            s = runs["02b-h200-conditional-exports"].series(["cn_datacenters"], "compute_delivered", freq="MS", how="mean")
            ax.plot(s.index, s.values / 1e6, color="grey", ls=":", label="all of China, no mandate (02b)")
        ax.set_ylabel("million TFLOPS a day")
        ax.set_title("China's domestic-chip mandate for state-funded data centers")
        ax.legend(fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(OUT / "05_mandate.png", dpi=120)
        plt.close(fig)

    names = [n for n in ("00-as-it-happened-2025-26", "06-gallium-germanium-us-ban",
                         "06b-gallium-germanium-transshipment-closed") if n in runs]  # the first has the longest run
    if names:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for ax, (node, prod) in zip(axes, (("us_gallium_users", "gallium"), ("us_germanium_users", "germanium"))):
            for name in names:
                s = runs[name].series([node], "delivered", prod)
                ax.plot(s.index, s.values, label=f"delivered, {name.split('-')[0]}")
            d = runs[names[0]].series([node], "demand", prod)
            ax.plot(d.index, d.values, color="black", ls=":", label="demand")
            ax.axvspan(pd.Timestamp("2025-11-09"), pd.Timestamp("2026-11-27"), color="grey", alpha=0.15, label="ban suspended")
            ax.set_title(f"US {prod} users")
            ax.set_ylabel("t per month")
            ax.legend(fontsize=7)
        fig.autofmt_xdate()
        fig.tight_layout()
        fig.savefig(OUT / "06_gallium_germanium.png", dpi=120)
        plt.close(fig)

    groups = [("00-as-it-happened-2025-26", [n for n in DELTAS_OF_00 if n.startswith("07")])]
    if any(base in runs for base, _ in groups):
        fig, ax = plt.subplots(figsize=(9, 4))
        labels, eu, us = [], [], []
        for base, options in groups:
            for name in [base] + options:
                if name in runs:
                    labels.append(name.split("-")[0] + ("\n(base)" if name == base else ""))
                    eu.append(runs[name].kpi("eu_magnet_users", "ndfeb_magnet", "shortfall"))
                    us.append(runs[name].kpi("us_magnet_users", "ndfeb_magnet", "shortfall"))
        x = np.arange(len(labels))
        for offset, values, name in ((-0.2, eu, "EU users"), (0.2, us, "US users")):
            bars = ax.bar(x + offset, values, width=0.4, label=name)
            ax.bar_label(bars, fmt="%.0f", fontsize=7, padding=1)  # a bar of 0 still shows its "0"
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_ylabel("t of magnets short over the run")
        ax.set_title("Policy options in the world as it happened (07a-g against 00, 2025-27)")
        ax.margins(y=0.12)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
        fig.tight_layout()
        fig.savefig(OUT / "07_policies.png", dpi=120)
        plt.close(fig)


def main(prefixes: list[str]) -> None:
    wanted = [f for f in FILES if not prefixes or any(f.startswith(p) for p in prefixes)]
    # the charts compare against these, so run them whenever a related file is asked for
    runs = {}
    for name in wanted:
        runs[name] = Run(name)
        print(f"ran {name}: {runs[name].reps} replications, {runs[name].seconds:.1f} s", flush=True)
    chart(runs)
    rows = headlines(runs)
    table = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "headlines.csv"
    if prefixes and path.exists():
        old = pd.read_csv(path)
        table = pd.concat([old[~old["scenario"].isin(runs)], table])
    table.to_csv(path, index=False)
    pd.set_option("display.width", 220, "display.max_rows", 500, "display.max_colwidth", 80)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
