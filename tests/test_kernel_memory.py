"""benchmarks/kernel_memory.py: its report from a run of scripts/run_series.py, held to the goals."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import kernel_memory  # noqa: E402

sys.path.pop(0)


@pytest.mark.parametrize(
    ("mode", "peak", "code"), [("quick", 900.0, 0), ("quick", 1100.0, 1), ("full", 1100.0, 0)]
)
def test_the_report_marks_each_kernel_against_its_modes_goal(tmp_path, monkeypatch, capsys, mode, peak, code):
    series = {"mode": mode, "notebooks": [{"notebook": "01_x.ipynb", "seconds": 9.0, "peak_mb": peak}]}
    (tmp_path / "series.json").write_text(json.dumps(series))
    argv = ["kernel_memory.py", "--from", str(tmp_path / "series.json"), "--json", str(tmp_path / "out.json")]
    monkeypatch.setattr(sys, "argv", argv)
    assert kernel_memory.main() == code
    table = capsys.readouterr().out
    goal = kernel_memory.GOAL_MB[mode]
    assert f"| 01_x.ipynb | 9 | {peak:,.0f} | {'yes' if peak < goal else '**no**'} |" in table
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["mode"] == mode and report["goal_mb"] == goal and report["notebooks"] == series["notebooks"]
