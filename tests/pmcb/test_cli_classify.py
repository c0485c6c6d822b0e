"""Tests of ``crowdsense classify`` (crowdsense.cli.classify), run in-process through
:func:`crowdsense.cli.main.main`, the entry point users run.

Expected outputs are checked against the files the command writes and against facts of the
input (node counts, documented in crowdsense/data/SOURCES.md), never against a stored run.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx
import pytest

from crowdsense.chain.registration import read_levels
from crowdsense.data import sample_path


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory):
    g = nx.disjoint_union_all([nx.random_regular_graph(5, 60, seed=1), nx.random_regular_graph(12, 40, seed=2),
                               nx.random_regular_graph(24, 50, seed=3)])
    path = tmp_path_factory.mktemp("graph") / "planted.txt"
    path.write_text("# three planted classes\n" + "".join(f"{u}\t{v}\n" for u, v in g.edges()))
    return path


def test_help_lists_every_option(run_cli):
    result = run_cli("classify", "--help")
    assert result.code == 0
    for option in ("--graph", "--levels", "--neighbors", "--seed", "--betweenness", "--out", "--features-out",
                   "--json", "--directed", "--connect", "--min-share"):
        assert option in result.stdout


def test_classify_writes_levels_and_features(tmp_path, graph_file, run_cli):
    out, feats = tmp_path / "levels.json", tmp_path / "features.csv"
    result = run_cli("classify", "--graph", graph_file, "--levels", 3, "--out", out, "--features-out", feats)
    assert result.code == 0, result.stderr
    levels = read_levels(out)
    assert len(levels) == 150 and set(levels.values()) == {1, 2, 3}
    assert len(feats.read_text().splitlines()) == 151
    assert "level" in result.stdout and str(out) in result.stdout


def test_json_summary_matches_levels_file(tmp_path, graph_file, run_cli):
    out = tmp_path / "levels.json"
    result = run_cli("classify", "--graph", graph_file, "--levels", 3, "--neighbors", 8, "--seed", 4,
                     "--out", out, "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    written = json.loads(out.read_text())
    assert summary["clusters"] == written["clusters"]
    assert written["parameters"]["neighbors"] == 8 and written["parameters"]["seed"] == 4


def test_same_seed_gives_same_file_levels(tmp_path, graph_file, run_cli):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run_cli("classify", "--graph", graph_file, "--levels", 3, "--seed", 9, "--out", a).code == 0
    assert run_cli("classify", "--graph", graph_file, "--levels", 3, "--seed", 9, "--out", b).code == 0
    assert read_levels(a) == read_levels(b)


def test_sampled_betweenness_option(tmp_path, graph_file, run_cli):
    out = tmp_path / "levels.json"
    result = run_cli("classify", "--graph", graph_file, "--levels", 2, "--betweenness", 25, "--out", out)
    assert result.code == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["parameters"]["betweenness"] == 25
    assert data["diagnostics"]["betweenness"]["pivots"] == 25


def test_default_levels_are_balanced_and_options_recorded(tmp_path, graph_file, run_cli):
    out = tmp_path / "levels.json"
    assert run_cli("classify", "--graph", graph_file, "--levels", 3, "--out", out).code == 0
    data = json.loads(out.read_text())
    sizes = [c["size"] for c in data["clusters"]]
    assert min(sizes) / max(sizes) >= 1 / 3 - 1e-9 and sum(sizes) == 150
    assert data["parameters"]["min_share"] == 0.5 and data["parameters"]["connect"] == "grow"
    assert data["diagnostics"]["knn_components"] == 1 and data["diagnostics"]["bridges"] == 0
    even = tmp_path / "even.json"
    assert run_cli("classify", "--graph", graph_file, "--levels", 3, "--min-share", 1, "--out", even).code == 0
    assert [c["size"] for c in json.loads(even.read_text())["clusters"]] == [50, 50, 50]


def test_forced_bridging_is_a_loud_warning(tmp_path, graph_file, run_cli):
    # Three disjoint planted graphs with K = 2: the kNN graph of their node vectors falls apart.
    result = run_cli("classify", "--graph", graph_file, "--levels", 3, "--neighbors", 2, "--connect", "bridge",
                     "--out", tmp_path / "l.json")
    assert result.code == 0, result.stderr
    assert "warning:" in result.stderr and "bridge" in result.stderr and "components" in result.stderr


def test_dropped_self_loops_reported_as_warning(tmp_path, graph_file, run_cli):
    path = tmp_path / "loops.txt"
    path.write_text(graph_file.read_text() + "0\t0\n")
    result = run_cli("classify", "--graph", path, "--levels", 2, "--out", tmp_path / "l.json")
    assert result.code == 0
    assert "warning:" in result.stderr and "self-loop" in result.stderr


# ----------------------------------------------------------------------------- errors


def one_line_error(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.code == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_missing_graph_file_is_one_line_error(tmp_path, run_cli):
    line = one_line_error(run_cli("classify", "--graph", tmp_path / "nope.txt", "--levels", 3, "--out", tmp_path / "o"))
    assert "not found" in line


def test_directed_file_is_one_line_error_naming_the_option(tmp_path, run_cli):
    line = one_line_error(run_cli("classify", "--graph", sample_path("email-Eu-core.txt.gz"), "--levels", 3,
                                  "--out", tmp_path / "o.json"))
    assert "--directed symmetrize" in line


@pytest.mark.parametrize("text, levels, expected", [
    ("1 2\n3\n", 2, "line 2"),  # a line with one node
    ("1 2\n2 3\n", 4, "[2, 3]"),  # more levels than nodes
])
def test_bad_graph_file_is_one_line_error(tmp_path, run_cli, text, levels, expected):
    path = tmp_path / "graph.txt"
    path.write_text(text)
    line = one_line_error(run_cli("classify", "--graph", path, "--levels", levels, "--out", tmp_path / "o.json"))
    assert expected in line


@pytest.mark.parametrize("args, option", [(("--levels", "1"), "--levels"), (("--levels", "3", "--neighbors", "0"),
                                          "--neighbors"), (("--levels", "3", "--betweenness", "many"),
                                                           "--betweenness"),
                                          (("--levels", "3", "--min-share", "1.5"), "--min-share"),
                                          (("--levels", "3", "--min-share", "-0.1"), "--min-share"),
                                          (("--levels", "3", "--min-share", "half"), "--min-share"),
                                          (("--levels", "3", "--connect", "never"), "--connect")])
def test_bad_option_values_are_usage_errors(tmp_path, graph_file, args, option, run_cli):
    result = run_cli("classify", "--graph", graph_file, *args, "--out", tmp_path / "o.json")
    assert result.code == 2 and option in result.stderr


# ----------------------------------------------------------------------- real data (one)


def test_ego_facebook_is_the_default_graph(tmp_path, run_cli):
    out = tmp_path / "levels.json"
    result = run_cli("classify", "--levels", 3, "--betweenness", 300, "--out", out, "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["graph"] == str(sample_path("facebook_combined.txt.gz"))
    levels = read_levels(out)
    assert len(levels) == 4039 and set(levels.values()) == {1, 2, 3}  # 4,039 nodes: crowdsense/data/SOURCES.md
    assert levels.keys() == {str(i) for i in range(4039)}
