"""Tests of edge-list reading (crowdsense.pmcb.graph_io).

Expected graphs are written out by hand in each test or obtained from networkx's own reader.
"""

from __future__ import annotations

import gzip
import random
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from crowdsense.data import sample_path
from crowdsense.errors import InputError
from crowdsense.pmcb.graph_io import (
    DirectedGraphError,
    EmptyGraphError,
    GraphFileError,
    GraphInputWarning,
    MalformedEdgeListError,
    as_graph,
    from_edges,
    from_networkx,
    load_edge_list,
)



def write(tmp_path: Path, text: str, name: str = "g.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def named_edges(graph) -> set[frozenset]:
    return {frozenset((graph.node_ids[u], graph.node_ids[v])) for u, v in graph.edges.tolist()}


# ------------------------------------------------------------------------------- format


def test_load_skips_comments_and_blank_lines(tmp_path):
    path = write(tmp_path, "# a SNAP header\n% another comment\n\n1 2\n  \n2\t3\n")
    g = load_edge_list(path)
    assert g.node_ids == ("1", "2", "3")
    assert named_edges(g) == {frozenset(("1", "2")), frozenset(("2", "3"))}


def test_load_gzip_gives_same_graph_as_plain(tmp_path):
    text = "0 1\n1 2\n2 0\n2 3\n"
    plain = load_edge_list(write(tmp_path, text))
    zipped = tmp_path / "g.txt.gz"
    zipped.write_bytes(gzip.compress(text.encode()))
    g = load_edge_list(zipped)
    assert g.node_ids == plain.node_ids
    assert np.array_equal(g.edges, plain.edges)


def test_load_gzip_recognised_by_content_not_name(tmp_path):
    path = tmp_path / "looks_plain.txt"
    path.write_bytes(gzip.compress(b"a b\nb c\n"))
    assert load_edge_list(path).n_edges == 2


def test_load_keeps_node_ids_as_text(tmp_path):
    g = load_edge_list(write(tmp_path, "007 7\n7 alice\n"))
    assert set(g.node_ids) == {"007", "7", "alice"}
    assert named_edges(g) == {frozenset(("007", "7")), frozenset(("7", "alice"))}


def test_load_orders_integer_ids_numerically(tmp_path):
    g = load_edge_list(write(tmp_path, "100 9\n9 10\n"))
    assert g.node_ids == ("9", "10", "100")


def test_load_result_does_not_depend_on_line_order(tmp_path):
    lines = [f"{u} {v}" for u, v in nx.gnm_random_graph(40, 90, seed=3).edges()]
    shuffled = lines[:]
    random.Random(1).shuffle(shuffled)
    a = load_edge_list(write(tmp_path, "\n".join(lines), "a.txt"))
    b = load_edge_list(write(tmp_path, "\n".join(shuffled), "b.txt"))
    assert a.node_ids == b.node_ids
    assert np.array_equal(a.edges, b.edges)


def test_edges_stored_once_with_smaller_position_first(tmp_path):
    g = load_edge_list(write(tmp_path, "3 1\n2 1\n"))
    assert g.edges.tolist() == [[0, 1], [0, 2]]  # positions of "1"-"2" and "1"-"3"


def test_adjacency_is_symmetric_zero_one_matrix_of_the_edges(tmp_path):
    g = load_edge_list(write(tmp_path, "1 2\n2 3\n3 1\n3 4\n"))
    a = g.adjacency.toarray()
    expected = np.zeros((4, 4))
    for u, v in [(0, 1), (1, 2), (2, 0), (2, 3)]:
        expected[u, v] = expected[v, u] = 1
    assert np.array_equal(a, expected)
    assert g.degrees.tolist() == [2, 2, 3, 1]


# ----------------------------------------------------------------- irregularities, policy


def test_self_loops_dropped_counted_and_node_kept(tmp_path):
    with pytest.warns(GraphInputWarning, match="self-loop"):
        g = load_edge_list(write(tmp_path, "1 2\n3 3\n2 2\n"))
    assert g.self_loops_dropped == 2
    assert g.node_ids == ("1", "2", "3")
    assert g.degrees.tolist() == [1, 1, 0]


def test_duplicate_lines_collapsed_and_counted(tmp_path):
    with pytest.warns(GraphInputWarning, match="duplicate"):
        g = load_edge_list(write(tmp_path, "1 2\n1 2\n1 2\n2 3\n"))
    assert g.duplicates_dropped == 2
    assert g.n_edges == 2


def test_reciprocal_pairs_rejected_by_default(tmp_path):
    with pytest.raises(DirectedGraphError, match="both directions.*symmetrize"):
        load_edge_list(write(tmp_path, "1 2\n2 1\n2 3\n"))


def test_directed_header_rejected_by_default(tmp_path):
    path = write(tmp_path, "# Directed graph (each unordered pair of nodes is saved once): x.txt\n1 2\n2 3\n")
    with pytest.raises(DirectedGraphError, match="header"):
        load_edge_list(path)


def test_undirected_header_accepted(tmp_path):
    path = write(tmp_path, "# Undirected graph: ../../data/output/ca-GrQc.txt\n1 2\n2 3\n")
    assert load_edge_list(path).n_edges == 2


def test_symmetrize_keeps_an_edge_for_either_direction(tmp_path):
    path = write(tmp_path, "1 2\n2 1\n2 3\n4 3\n")
    with pytest.warns(GraphInputWarning, match="symmetrised"):
        g = load_edge_list(path, directed="symmetrize")
    assert g.symmetrized
    assert g.reciprocal_pairs == 1
    assert named_edges(g) == {frozenset(("1", "2")), frozenset(("2", "3")), frozenset(("3", "4"))}


def test_symmetrize_of_declared_directed_file_is_recorded(tmp_path):
    path = write(tmp_path, "# Directed graph: x\n1 2\n2 3\n")
    g = load_edge_list(path, directed="symmetrize")
    assert g.symmetrized and g.n_edges == 2


def test_unknown_directed_policy_rejected(tmp_path):
    with pytest.raises(InputError, match="directed must be one of"):
        load_edge_list(write(tmp_path, "1 2\n"), directed="ignore")


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("line, fields", [("5", 1), ("1 2 0.5", 3)])
def test_malformed_line_reports_file_and_line_number(tmp_path, line, fields):
    path = write(tmp_path, f"# header\n1 2\n{line}\n")
    with pytest.raises(MalformedEdgeListError, match=rf"line 3: {fields} fields") as info:
        load_edge_list(path)
    assert info.value.line_number == 3
    assert str(path) in str(info.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n\n", ])
def test_file_without_edges_is_an_error(tmp_path, text):
    with pytest.raises(EmptyGraphError, match="no edge"):
        load_edge_list(write(tmp_path, text))


def test_file_of_self_loops_only_is_an_error(tmp_path):
    with pytest.raises(EmptyGraphError, match="self-loop"):
        load_edge_list(write(tmp_path, "1 1\n2 2\n"))


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(GraphFileError, match="not found"):
        load_edge_list(tmp_path / "nope.txt")


def test_directory_is_an_error(tmp_path):
    with pytest.raises(GraphFileError, match="is a directory"):
        load_edge_list(tmp_path)


def test_corrupt_gzip_is_an_error(tmp_path):
    path = tmp_path / "bad.gz"
    path.write_bytes(b"\x1f\x8b" + b"not really gzip")
    with pytest.raises(GraphFileError, match="gzip"):
        load_edge_list(path)


def test_binary_file_is_an_error(tmp_path):
    path = tmp_path / "bin.dat"
    path.write_bytes(b"1 2\n\xff\xfe\x00\x01\n")
    with pytest.raises(GraphFileError, match="not UTF-8"):
        load_edge_list(path)


def test_graph_errors_are_input_errors():
    assert issubclass(GraphFileError, InputError) and issubclass(DirectedGraphError, ValueError)


def test_byte_order_mark_is_not_part_of_the_first_node_id(tmp_path):
    text = "0 1\n1 2\n2 0\n0 3\n"
    plain = load_edge_list(write(tmp_path, text))
    marked = tmp_path / "bom.txt"
    marked.write_bytes(b"\xef\xbb\xbf" + text.encode())
    zipped = tmp_path / "bom.txt.gz"
    zipped.write_bytes(gzip.compress(marked.read_bytes()))
    for path in (marked, zipped):
        g = load_edge_list(path)
        assert g.node_ids == plain.node_ids == ("0", "1", "2", "3")
        assert np.array_equal(g.edges, plain.edges)


def test_gzip_expanding_past_the_limit_is_refused(tmp_path, monkeypatch):
    from crowdsense.inputfile import ENV_MAX_INPUT_BYTES, InputTooLargeError

    bomb = tmp_path / "bomb.txt.gz"
    bomb.write_bytes(gzip.compress(b"0 1\n1 2\n" * 50_000))  # 400 kB of text, ~1 kB on disk
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "64K")
    with pytest.raises(InputTooLargeError, match=r"graph file .*bomb\.txt\.gz decompresses to more than 64 KiB"):
        load_edge_list(bomb)
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "1M")
    with pytest.warns(GraphInputWarning, match="duplicate"):
        assert load_edge_list(bomb).n_edges == 2


def test_endless_input_without_newline_is_refused(monkeypatch):
    from crowdsense.inputfile import ENV_MAX_INPUT_BYTES, MAX_LINE_BYTES

    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, "1M")
    assert MAX_LINE_BYTES < 1 << 20  # the line limit speaks first
    with pytest.raises(GraphFileError, match=r"graph file /dev/zero has a line longer than 64 KiB \(line 1\)"):
        load_edge_list("/dev/zero")


# ------------------------------------------------------------------ in-memory constructors


def test_from_edges_sorts_integer_ids_and_adds_isolated_nodes():
    g = from_edges([(3, 1), (1, 2)], nodes=[1, 2, 3, 4])
    assert g.node_ids == (1, 2, 3, 4)
    assert g.degrees.tolist() == [2, 1, 1, 0]


def test_from_edges_unknown_endpoint_is_an_error():
    with pytest.raises(InputError, match="not in the node list"):
        from_edges([(1, 5)], nodes=[1, 2])


def test_from_networkx_rejects_digraph_unless_symmetrized():
    d = nx.DiGraph([(1, 2), (2, 3)])
    with pytest.raises(DirectedGraphError):
        from_networkx(d)
    g = from_networkx(d, directed="symmetrize")
    assert g.symmetrized and g.n_edges == 2


def test_as_graph_rejects_other_types():
    with pytest.raises(InputError, match="must be a Graph"):
        as_graph(42)


def test_from_networkx_rejects_other_types_and_names_the_optional_install():
    expected = r"must be a networkx graph \(networkx is optional: pip install networkx\), got list"
    with pytest.raises(InputError, match=expected):
        from_networkx([(1, 2)])


def test_to_networkx_round_trip():
    g = from_edges([("a", "b"), ("b", "c")], nodes=["a", "b", "c", "d"])
    nxg = g.to_networkx()
    assert sorted(nxg.nodes) == [0, 1, 2, 3] and sorted(map(sorted, nxg.edges)) == [[0, 1], [1, 2]]
    assert named_edges(from_networkx(nxg)) == {frozenset((0, 1)), frozenset((1, 2))}


# ------------------------------------------------------------------------------ real data


def test_email_eu_core_is_directed_and_rejected():
    with pytest.raises(DirectedGraphError, match="both directions"):
        load_edge_list(sample_path("email-Eu-core.txt.gz"))


def test_email_eu_core_symmetrized_matches_networkx_reader():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GraphInputWarning)
        g = load_edge_list(sample_path("email-Eu-core.txt.gz"), directed="symmetrize")
    ref = nx.read_edgelist(sample_path("email-Eu-core.txt.gz"), create_using=nx.Graph, nodetype=str)
    loops = nx.number_of_selfloops(ref)
    ref.remove_edges_from(list(nx.selfloop_edges(ref)))
    assert set(g.node_ids) == set(ref.nodes)
    assert named_edges(g) == {frozenset(e) for e in ref.edges}
    assert g.self_loops_dropped == loops



# ------------------------------------------------------------------ the three parsers agree


MESSY = nx.gnm_random_graph(60, 150, seed=4)


def messy_text() -> str:
    g = MESSY
    lines = ["# Undirected graph: messy", ""]
    for k, (u, v) in enumerate(g.edges()):
        sep = "\t" if k % 3 else "  "
        lines.append(f"{u}{sep}{v}" + ("\r" if k % 5 == 0 else ""))
        if k % 40 == 0:
            lines.append("% a comment in the middle")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("parser", ["integers", "tokens", "lines"])
def test_every_parser_reads_the_same_graph(tmp_path, monkeypatch, parser):
    import re

    import crowdsense.pmcb.graph_io as graph_io

    path = write(tmp_path, messy_text())
    expected = load_edge_list(path)  # integer fast path
    if parser in ("tokens", "lines"):
        monkeypatch.setattr(graph_io, "_integer_pairs", lambda body: None)
    if parser == "lines":
        monkeypatch.setattr(graph_io, "_PLAIN_PAIRS", re.compile(r"(?!)"))
    g = load_edge_list(path)
    assert g.node_ids == expected.node_ids and np.array_equal(g.edges, expected.edges)
    assert named_edges(g) == {frozenset((str(u), str(v))) for u, v in MESSY.edges}


def test_unusual_whitespace_read_line_by_line(tmp_path):
    g = load_edge_list(write(tmp_path, "1\u00a02\n2 3\n"))
    assert named_edges(g) == {frozenset(("1", "2")), frozenset(("2", "3"))}


def test_ids_with_leading_zeros_or_signs_keep_their_text(tmp_path):
    g = load_edge_list(write(tmp_path, "007 7\n+7 7\n"))
    assert g.node_ids == ("+7", "007", "7")  # equal values ordered by text
    assert g.n_edges == 2


def test_very_long_integer_ids_kept_exactly(tmp_path):
    big = "123456789012345678901234567890"
    g = load_edge_list(write(tmp_path, f"{big} 1\n1 2\n"))
    assert g.node_ids == ("1", "2", big)
