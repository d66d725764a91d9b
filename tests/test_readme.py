"""README.md promises two set-up commands; CI must run the second one verbatim."""
from __future__ import annotations

import re

from helpers import ROOT


def readme_commands() -> list[str]:
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_commands():
    commands = readme_commands()
    assert len(commands) == 2
    assert "chipsim run scenarios/" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci


def test_readme_scenario_exists():
    path = re.search(r"chipsim run (scenarios/\S+)", readme_commands()[0]).group(1)
    assert (ROOT / path).is_file()
