"""What moves an option's gain over the base (``chipsim compare --drivers``).

A decision maker asks whether the ranking of options survives the uncertain inputs, so the
quantity screened is each option's difference from the base in each of the base's
headlines (option minus base, in the headline's unit), not each variant's own headlines.
At every design point the base and every option run on the same replications with the
same seed (common random numbers), each with the point's input values, and the
differences are screened as ``sim.drivers`` screens headlines.

Which inputs, and who takes them. The inputs are the union of the files' distributions
(``sim.futures.scenario_inputs``):

- an input whose path, distribution and shared-draw members are the same in the base and
  an option is one input, set to the same value in both (options that extend the base
  inherit its distributions, so these are most of them);
- an input only the base has (an option that fixes the value, or lacks the shock) is set
  in the base alone, and is labelled "(base only)";
- an input an option has and the base lacks, or gives another distribution, is that
  option's own input, named ``<option>:<path>`` and set in that option alone.

Every option's headlines are set to the base's, so both sides measure the same thing.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
from pydantic import ValidationError

from .drivers import (
    Drivers,
    DriversJob,
    Option,
    design_manifest,
    difference_column,
    input_label,
    intervals,
    scenario_at,
    screen,
    select_headlines,
    units_at,
)
from .errors import ChipsimUserError
from .futures import Input, scenario_inputs
from .labels import readable
from .provenance import build_manifest
from .schema import Scenario
from .sensitivity import QUANTILES


def _label(inp: Input, doc: dict, owner: str) -> str:
    words = input_label(inp.path, doc)
    if inp.linked:
        words = f"shared draw '{inp.group}' ({len(inp.linked) + 1} values, led by {words})"
    return f"{words} ({owner})" if owner else words


def _check_measurable(odoc: dict, name: str) -> None:
    """Refuse an option that lacks a node or product one of the base's headlines reads."""
    problem = ""
    for h in odoc["headlines"]:
        for key, section in (("node", "nodes"), ("product", "products")):
            value = h.get(key) if isinstance(h, dict) else None
            if not problem and isinstance(value, str) and value not in (odoc.get(section) or {}):
                problem = f"headline '{h.get('name')}' reads {key} '{value}', which the option does not have"
    if not problem:
        try:
            Scenario.model_validate(odoc)
        except ValidationError as exc:
            err = exc.errors()[0]
            problem = f"{'.'.join(map(str, err['loc']))}: {err['msg'].removeprefix('Value error, ')}"
    if problem:
        raise ChipsimUserError(f"option '{name}' cannot be measured by the base's headlines: {problem}")


def plan_compare(scenarios: Sequence[Scenario], ids: Sequence[str], replications: int = 1,
                 seed: int | None = None) -> tuple[DriversJob, Scenario, dict[str, str]]:
    """Check a comparison's drivers run before anything runs: the base's headlines, the
    union of the inputs (see the module text), every variant built at the inputs' 5%, 50%
    and 95% points. Returns the job, the base (with its headlines) and each input's label."""
    if len(scenarios) < 2 or len(ids) != len(scenarios):
        raise ChipsimUserError("--drivers needs a base scenario and at least one option")
    if replications < 1:
        raise ChipsimUserError(f"--replications must be at least 1, got {replications}")
    base = scenarios[0]
    doc = base.to_document()
    select_headlines(doc, (), f"the base '{base.name}'")
    inputs: list[Input] = list(scenario_inputs(doc))
    keys = [inp.path for inp in inputs]
    n_base = len(inputs)
    taken: list[list[bool]] = []
    docs: list[tuple[str, str, dict]] = []
    for sc, oid in zip(scenarios[1:], ids[1:], strict=True):
        odoc = sc.to_document()
        odoc["headlines"] = copy.deepcopy(doc["headlines"])
        _check_measurable(odoc, sc.name)
        mine = set()
        for inp in scenario_inputs(odoc):
            if inp in inputs[:n_base]:  # same path, distribution and shared-draw members
                mine.add(inputs.index(inp))
            else:
                inputs.append(inp)
                keys.append(f"{oid}:{inp.path}")
                mine.add(len(inputs) - 1)
        taken.append([i in mine for i in range(len(inputs))])
        docs.append((oid, sc.name, odoc))
    base_use = tuple(i < n_base for i in range(len(inputs)))
    if not inputs:
        raise ChipsimUserError(f"neither the base '{base.name}' nor its options have uncertain inputs: no numeric value "
                               "is given as a distribution, so nothing can move the options' differences")
    options = tuple(Option(oid, name, odoc, tuple(t + [False] * (len(inputs) - len(t))))
                    for (oid, name, odoc), t in zip(docs, taken, strict=True))
    chosen = Scenario.model_validate(doc)
    job = DriversJob(doc, tuple(inputs), int(replications), base.seed if seed is None else int(seed),
                     tuple(h.name for h in chosen.headlines), tuple(keys), base_use, options)
    labels = {}
    for i, (inp, key) in enumerate(zip(inputs, keys, strict=True)):
        users = [opt for opt in options if opt.use[i]]
        if i >= n_base:
            labels[key] = _label(inp, users[0].doc, f"{users[0].label} only")
        else:
            labels[key] = _label(inp, doc, "" if len(users) == len(options) else "base only" if not users else
                                 "base and " + ", ".join(opt.label for opt in users))
    for q in (0.5, QUANTILES[0], QUANTILES[1]):
        at = [float(inp.ppf(np.array([q]))[0]) for inp in inputs]
        scenario_at(doc, inputs, at, base_use, f"{100 * q:.0f}% point")
        for opt in options:
            scenario_at(opt.doc, inputs, at, opt.use, f"{100 * q:.0f}% point of '{opt.label}'")
    return job, chosen, labels


def compare_drivers(scenarios: Sequence[Scenario], ids: Sequence[str], trajectories: int = 10, samples: int = 32,
                    top: int = 3, replications: int = 1, seed: int | None = None, workers: int = 1,
                    executor: str = "processes", progress: bool = False) -> Drivers:
    """What moves each option's difference from the base (``scenarios[0]``) in each of the
    base's headlines: the Morris screening of ``sim.drivers.drivers`` on option minus
    base; ``ids`` are the variants' ids (as ``chipsim compare`` names them)."""
    job, chosen, labels = plan_compare(scenarios, ids, replications, seed)
    done = screen(job, labels, trajectories, samples, top, workers, executor, progress)
    manifest = build_manifest(chosen, job.seed, job.replications, workers, done.wall)
    manifest.update(design_manifest(trajectories, samples, top, executor, done))
    manifest.update({"scenario_file": str(ids[0]), "compare": {"base": str(ids[0]),
                                                               "options": [opt.id for opt in job.options]},
                     "inputs": [{"name": key, "path": inp.path, "label": labels[key], "distribution": inp.dist.model_dump(),
                                 "linked": [m.path for m in inp.linked],
                                 "set_in": ([str(ids[0])] if job.use[i] else []) +
                                           [opt.id for opt in job.options if opt.use[i]]}
                                for i, (inp, key) in enumerate(zip(job.inputs, job.keys, strict=True))],
                     "headlines": list(job.columns)})
    units = units_at(job, done.median)
    rows = [(difference_column(h.name, opt.id), h.label or readable(h.name), units.get(h.name, ""))
            for opt in job.options for h in chosen.headlines]
    heads = intervals(rows, done.sample, done.at_median)
    heads.insert(1, "option", [opt.label for opt in job.options for _ in chosen.headlines])
    return Drivers(chosen, list(job.inputs), labels, heads, done.indices, done.effects, done.evaluations, int(top),
                   manifest, differences=True)
