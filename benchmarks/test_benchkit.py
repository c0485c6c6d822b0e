"""Tests of benchkit, the pieces the benchmark scripts share (imported as they import it:
pytest puts ``benchmarks/`` first on ``sys.path`` for a test file of this folder)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import benchkit


def _strict_json(text: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_jsonable_turns_numpy_values_into_python_values() -> None:
    out = benchkit.jsonable({"i": np.int64(7), "f": np.float32(0.5), "b": np.bool_(True),
                             "a": np.arange(6).reshape(2, 3), "t": (1, np.int8(2))})
    assert out == {"i": 7, "f": 0.5, "b": True, "a": [[0, 1, 2], [3, 4, 5]], "t": [1, 2]}
    assert [type(out[k]) for k in ("i", "f", "b")] == [int, float, bool]
    assert type(out["a"][1][2]) is int


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, np.float64("nan"), np.float32("inf")])
def test_jsonable_makes_non_finite_numbers_null(bad: float) -> None:
    out = benchkit.jsonable({"x": bad, "in_list": [1.5, bad], "in_array": np.array([bad, 2.0])})
    assert out == {"x": None, "in_list": [1.5, None], "in_array": [None, 2.0]}


def test_write_json_writes_strict_json(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    data = {"ratio": math.nan, "loads": (0.5, 1.0, 1.5), "rows": [{"n": np.int64(3)}]}
    benchkit.write_json(path, data, indent=2)
    text = path.read_text()
    assert text.endswith("}\n")
    assert _strict_json(text) == {"ratio": None, "loads": [0.5, 1.0, 1.5], "rows": [{"n": 3}]}
    assert '\n  "ratio"' in text  # the indent asked for


def test_machine_info_records_the_asked_keys() -> None:
    info = benchkit.machine_info({"numpy": "numpy", "not-there": "no-such-distribution-xyz"},
                                 load_key="load_at_start", processor_key="cpu")
    assert set(info) == {"cpu_count", "cpu", "platform", "python", "numpy", "not-there", "load_at_start"}
    assert info["numpy"] == np.__version__
    assert info["not-there"] == "unknown"
    assert isinstance(info["cpu_count"], int) and info["cpu_count"] >= 1
    assert info["load_at_start"] is None or len(info["load_at_start"]) == 3


def test_machine_info_takes_plain_distribution_names() -> None:
    info = benchkit.machine_info(["numpy"])
    assert set(info) == {"cpu_count", "platform", "python", "numpy", "loadavg_at_start"}


def test_load_average_is_three_non_negative_numbers_or_none() -> None:
    load = benchkit.load_average()
    assert load is None or (len(load) == 3 and all(x >= 0 for x in load))


def test_output_stem_creates_the_folder_and_marks_quick_runs(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    assert benchkit.output_stem(out, "ctbc", quick=True) == "ctbc_quick"
    assert out.is_dir()
    assert benchkit.output_stem(out, "ctbc", quick=False) == "ctbc"


def test_save_figure_writes_a_png_and_closes_the_figure(tmp_path: Path) -> None:
    plt = benchkit.pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    name = benchkit.save_figure(fig, tmp_path / "plot.png", dpi=50)
    assert name == "plot.png"
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)


def test_utc_timestamp_is_iso_8601_in_utc() -> None:
    from datetime import datetime, timedelta

    stamp = datetime.fromisoformat(benchkit.utc_timestamp())
    assert stamp.utcoffset() == timedelta(0)
    assert stamp.microsecond == 0
