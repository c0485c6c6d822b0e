"""Social graphs for the PMCB classifier: reading SNAP edge lists, building from edges.

PMCB classifies the vertices of an **undirected, simple** graph (paper section IV.A; docs/design.md,
section 4). Real edge lists are rarely that clean, so this module decides, once and in one
place, what happens to each kind of irregularity, and reports it instead of hiding it:

* **Format**: one edge per line, two node ids separated by whitespace (SNAP uses tabs or
  spaces). Lines starting with ``#`` or ``%`` are comments, blank lines are skipped. The file
  may be gzip-compressed (recognised by its magic bytes, not by its name). Any other line, for
  example one with a single field or with a third column (a weight or a timestamp), is an
  error that names the line: silently dropping a column could change the graph's meaning.
  A leading UTF-8 byte order mark is dropped (it would otherwise turn node ``0`` into
  ``"\\ufeff0"``).
* **Size**: the file is streamed and refused past 512 MiB of (decompressed) text or a line of
  64 KiB, before memory runs out (``/dev/zero``, a gzip bomb); ``$CROWDSENSE_MAX_INPUT_BYTES``
  changes the size limit (see :mod:`crowdsense.inputfile`, which says why these values).
* **Node ids are kept as given**: the text of each id is the node's name (``"007"`` and ``"7"``
  are two nodes), and levels are reported under those names. Nodes are ordered by their
  integer value when every id is an integer, otherwise by their text; the order never depends
  on the order of the lines, so shuffling a file does not change a classification.
* **Self-loops** (``u u``) are dropped (degree, clustering and betweenness are defined on
  simple graphs); the node itself is kept, isolated if it has no other edge. Counted and
  warned about.
* **Duplicate lines** (the same ``u v`` twice) are collapsed into one edge (the graph is
  unweighted). Counted and warned about.
* **Directed input is never silently symmetrised.** A file is taken to be directed when a
  header comment says so (``# Directed graph ...``, SNAP's convention) or when it lists some
  pair in both directions (``u v`` and ``v u``: an undirected list names each edge once).
  With ``directed="reject"`` (the default) such a file is an error; with
  ``directed="symmetrize"`` it is read as the undirected graph with an edge {u, v} whenever
  ``u -> v`` or ``v -> u`` is listed, and the result records that it was symmetrised. A
  directed file with no reciprocal pair and no header cannot be recognised as directed:
  the caller must know where its data come from.
* **An empty graph** (no edge left) is an error: no feature is defined.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Hashable, Iterable, Literal, Sequence

import numpy as np
import scipy.sparse as sp

from crowdsense.errors import InputError
from crowdsense.inputfile import GRAPH_LIMIT, MAX_LINE_BYTES, read_input_bytes

__all__ = [
    "Graph",
    "GraphInputError",
    "GraphFileError",
    "MalformedEdgeListError",
    "EmptyGraphError",
    "DirectedGraphError",
    "GraphInputWarning",
    "load_edge_list",
    "from_edges",
    "from_networkx",
    "as_graph",
]

DirectedPolicy = Literal["reject", "symmetrize"]
_DIRECTED_POLICIES = ("reject", "symmetrize")
_COMMENT_CHARS = ("#", "%")
_DIRECTED_HEADER = re.compile(r"(?<![a-z])directed(?![a-z])", re.IGNORECASE)
_INTEGERS = re.compile(r"[+-]?[0-9]+(?:\n[+-]?[0-9]+)*")
_CANONICAL_INTEGERS = re.compile(r"(?:0|[1-9][0-9]{0,17})(?:\n(?:0|[1-9][0-9]{0,17}))*")
_BLANK = r"[ \t\r]*"
_PAIR_LINE = rf"{_BLANK}(?:\S+[ \t\r]+\S+{_BLANK})?"
#: Every line blank or exactly two fields (after comment lines are emptied).
_PLAIN_PAIRS = re.compile(rf"(?:{_PAIR_LINE}\n)*{_PAIR_LINE}")
#: A whole comment line (its text; the newline stays).
_COMMENT_LINE = re.compile(r"^[ \t\r]*[#%][^\n]*", re.MULTILINE)
#: Comment and blank lines at the start of a file (where SNAP puts its header).
_HEADER_BLOCK = re.compile(r"(?:[ \t\r]*(?:[#%][^\n]*)?\n)*")


# ------------------------------------------------------------------------------- errors


class GraphInputError(InputError):
    """A graph that cannot be classified as given."""


class GraphFileError(GraphInputError):
    """The edge-list file cannot be read (missing, a directory, not gzip or not text)."""


class MalformedEdgeListError(GraphInputError):
    """A line of an edge list is not ``u v``."""

    def __init__(self, source: str, line_number: int, line: str, reason: str) -> None:
        shown = line if len(line) <= 80 else line[:77] + "..."
        super().__init__(f"{source}, line {line_number}: {reason}, got {shown!r} "
                         "(expected two node ids 'u v' separated by whitespace)")
        self.source = source
        self.line_number = line_number
        self.line = line


class EmptyGraphError(GraphInputError):
    """A graph without any edge (after self-loops are dropped)."""


class DirectedGraphError(GraphInputError):
    """A directed edge list given where an undirected graph is required."""


class GraphInputWarning(UserWarning):
    """Input that was accepted but changed (self-loops or duplicate edges dropped...)."""


# -------------------------------------------------------------------------------- graph


@dataclass(frozen=True, eq=False, repr=False)
class Graph:
    """An undirected simple graph with named nodes.

    Attributes
    ----------
    node_ids : tuple
        Name of each node, in node order (position ``i`` is node ``i`` of every array).
    edges : ndarray of int64, shape (m, 2)
        Each undirected edge once, as positions ``(u, v)`` with ``u < v``, sorted.
    source : str
        Where the graph came from (a path, or a short description).
    self_loops_dropped, duplicates_dropped, reciprocal_pairs : int
        What the reader removed or merged: self-loop lines, repeated ``u v`` lines, and pairs
        listed in both directions (merged into one edge when symmetrising).
    symmetrized : bool
        True when a directed input was made undirected on request.
    """

    node_ids: tuple[Hashable, ...] = field(repr=False)
    edges: np.ndarray = field(repr=False)
    source: str = "<memory>"
    self_loops_dropped: int = 0
    duplicates_dropped: int = 0
    reciprocal_pairs: int = 0
    symmetrized: bool = False
    _index: dict[Hashable, int] | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"Graph(source={self.source!r}, nodes={self.n_nodes}, edges={self.n_edges}, "
                f"self_loops_dropped={self.self_loops_dropped}, duplicates_dropped={self.duplicates_dropped}, "
                f"symmetrized={self.symmetrized})")

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return int(self.edges.shape[0])

    @cached_property
    def adjacency(self) -> sp.csr_array:
        """Symmetric 0/1 adjacency matrix A (float64, CSR, sorted indices)."""
        n, e = self.n_nodes, self.edges
        rows = np.concatenate([e[:, 0], e[:, 1]])
        cols = np.concatenate([e[:, 1], e[:, 0]])
        a = sp.csr_array((np.ones(rows.size), (rows, cols)), shape=(n, n))
        a.sum_duplicates()
        a.sort_indices()
        return a

    @cached_property
    def igraph(self) -> Any:
        """The same graph as an undirected :class:`igraph.Graph` on positions 0..n-1."""
        import igraph

        e = self.edges
        return igraph.Graph(n=self.n_nodes, edges=list(zip(e[:, 0].tolist(), e[:, 1].tolist())), directed=False)

    @cached_property
    def degrees(self) -> np.ndarray:
        """Number of neighbours of each node (int64)."""
        return np.bincount(self.edges.ravel(), minlength=self.n_nodes).astype(np.int64)

    def index_of(self, node_id: Hashable) -> int:
        """Position of the node named ``node_id``."""
        index = self._index
        if index is None:
            index = {v: i for i, v in enumerate(self.node_ids)}
            object.__setattr__(self, "_index", index)
        try:
            return index[node_id]
        except KeyError:
            raise GraphInputError(f"node {node_id!r} is not in the graph {self.source}") from None

    def to_networkx(self) -> Any:
        """The same graph as a :class:`networkx.Graph` on positions 0..n-1 (for cross-checks).

        networkx is an optional dependency (the classifier does not need it): without it this
        raises :class:`~crowdsense.errors.InputError` saying to ``pip install networkx``.
        """
        try:
            import networkx as nx
        except ImportError:
            raise InputError("to_networkx needs networkx, which is not installed: pip install networkx") \
                from None

        g = nx.Graph()
        g.add_nodes_from(range(self.n_nodes))
        g.add_edges_from(self.edges.tolist())
        return g


def _check_policy(directed: str) -> None:
    if directed not in _DIRECTED_POLICIES:
        raise InputError(f"directed must be one of {_DIRECTED_POLICIES}, got {directed!r}")


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort is much faster than ``np.unique``'s hashing here)."""
    keys = np.sort(keys)
    if keys.size:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    return keys


def _member(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Whether each value is in ``sorted_keys`` (sorted, distinct)."""
    if sorted_keys.size == 0:
        return np.zeros(values.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, values), sorted_keys.size - 1)
    return sorted_keys[pos] == values


def _build(node_ids: Sequence[Hashable], src: np.ndarray, dst: np.ndarray, *, source: str,
           directed: str, declared_directed: str | None) -> Graph:
    """Turn listed pairs (positions) into a :class:`Graph`, applying the documented policy."""
    n = len(node_ids)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    loops = src == dst
    n_loops = int(loops.sum())
    src, dst = src[~loops], dst[~loops]
    ordered = _sorted_unique(src * n + dst)  # distinct ordered pairs
    duplicates = int(src.size - ordered.size)
    u, v = np.divmod(ordered, n)
    reversed_keys = v * n + u
    is_reciprocal = _member(reversed_keys, ordered)
    reciprocal = int(is_reciprocal.sum()) // 2
    if directed == "reject" and (declared_directed or reciprocal):
        if declared_directed:
            why = f"its header says {declared_directed!r}"
        else:
            pos = int(np.flatnonzero(is_reciprocal)[0])
            a, b = node_ids[int(u[pos])], node_ids[int(v[pos])]
            why = (f"it lists {reciprocal} pair(s) in both directions, e.g. '{a} {b}' and '{b} {a}' "
                   "(an undirected edge list names each edge once)")
        raise DirectedGraphError(
            f"{source} looks like a directed graph: {why}. PMCB needs an undirected graph; pass "
            "directed='symmetrize' (CLI: --directed symmetrize) to use the undirected graph with an "
            "edge {u, v} wherever u->v or v->u is listed")
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keys = _sorted_unique(lo * n + hi)
    edges = np.column_stack(np.divmod(keys, n)).astype(np.int64)
    if edges.shape[0] == 0:
        raise EmptyGraphError(f"{source} has no edge" + (f" (only {n_loops} self-loop(s), which are dropped)"
                                                        if n_loops else "") + "; a graph needs at least one edge")
    if n_loops:
        warnings.warn(f"{source}: dropped {n_loops} self-loop(s) (features are defined on simple graphs)",
                      GraphInputWarning, stacklevel=3)
    if duplicates:
        warnings.warn(f"{source}: collapsed {duplicates} duplicate edge line(s)", GraphInputWarning, stacklevel=3)
    if reciprocal and directed == "symmetrize":
        warnings.warn(f"{source}: symmetrised a directed graph ({reciprocal} reciprocal pair(s) merged)",
                      GraphInputWarning, stacklevel=3)
    edges.setflags(write=False)
    return Graph(node_ids=tuple(node_ids), edges=edges, source=source, self_loops_dropped=n_loops,
                 duplicates_dropped=duplicates, reciprocal_pairs=reciprocal,
                 symmetrized=directed == "symmetrize" and bool(reciprocal or declared_directed))


def _read_text(path: Path) -> str:
    """The text of the edge list: streamed under the size and line limits, gunzipped, UTF-8
    without a byte order mark (left in, it would be part of the first node id)."""
    raw = read_input_bytes(path, "graph file", limit=GRAPH_LIMIT, gunzip=True, max_line=MAX_LINE_BYTES,
                           error=GraphFileError)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GraphFileError(f"graph file {path} is not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r}); "
                             "expected an edge list, optionally gzip-compressed") from None


def _node_order(tokens: Iterable[str]) -> list[str]:
    """Node names sorted by integer value when all are integers (ties by text), else by text."""
    names = list(set(tokens))
    if _INTEGERS.fullmatch("\n".join(names)):
        values = list(map(int, names))
        if len(set(values)) == len(values):
            try:
                order = np.argsort(np.array(values, dtype=np.int64), kind="stable")
                return [names[i] for i in order]
            except OverflowError:
                pass
        return sorted(names, key=lambda t: (int(t), t))
    return sorted(names)


def _positions_of(tokens: list[str], names: list[str]) -> np.ndarray:
    """Position in ``names`` of every token."""
    if _CANONICAL_INTEGERS.fullmatch("\n".join(names)):
        # Canonical integers (no sign, no leading zero) name nodes one-to-one by value, so
        # numpy can parse and look them up without a Python loop.
        try:
            values = np.array(tokens).astype(np.int64)
            keys = np.array(names).astype(np.int64)
            order = np.argsort(keys)
            return order[np.searchsorted(keys, values, sorter=order)]
        except (OverflowError, ValueError):
            pass
    index = {name: i for i, name in enumerate(names)}
    return np.fromiter(map(index.__getitem__, tokens), dtype=np.int64, count=len(tokens))


def load_edge_list(path: str | Path, *, directed: DirectedPolicy = "reject") -> Graph:
    """Read a SNAP-style edge list (plain or gzip) into an undirected :class:`Graph`.

    Parameters
    ----------
    path : str or Path
        The file: one ``u v`` pair per line, ``#``/``%`` comments, optionally gzip-compressed.
    directed : {"reject", "symmetrize"}
        What to do with a directed edge list (see the module docstring for how one is
        recognised): raise :class:`DirectedGraphError`, or use the undirected graph with an
        edge wherever either direction is listed.

    Returns
    -------
    Graph
        Nodes named by the ids of the file, self-loops and duplicates removed (and counted).

    Raises
    ------
    GraphFileError, MalformedEdgeListError, EmptyGraphError, DirectedGraphError
        All subclasses of :class:`crowdsense.errors.InputError`, with the file and line.
    """
    _check_policy(directed)
    path = Path(path)
    text = _read_text(path)
    source = str(path)
    declared = _header_declares_directed(text)
    body = _COMMENT_LINE.sub("", text)
    values = _integer_pairs(body)
    if values is not None:  # the common SNAP case, parsed without a Python loop
        if values.size == 0:
            raise EmptyGraphError(f"{source} has no edge (only comments or blank lines); "
                                  "a graph needs at least one edge")
        keys = _sorted_unique(values)
        ids = np.searchsorted(keys, values)
        names: list[str] = list(map(str, keys.tolist()))
        return _build(names, ids[0::2], ids[1::2], source=source, directed=directed, declared_directed=declared)
    if _PLAIN_PAIRS.fullmatch(body):
        tokens = body.split()
    else:
        tokens, declared = _parse_lines(text, source)
    if not tokens:
        raise EmptyGraphError(f"{source} has no edge (only comments or blank lines); a graph needs at least one edge")
    names = _node_order(tokens)
    ids = _positions_of(tokens, names)
    return _build(names, ids[0::2], ids[1::2], source=source, directed=directed, declared_directed=declared)


def _declared_directed(comment: str) -> str | None:
    """The comment itself if it declares the graph directed (SNAP: '# Directed graph ...')."""
    if _DIRECTED_HEADER.search(comment) and "undirected" not in comment.lower():
        return comment.strip()[:60]
    return None


def _header_declares_directed(text: str) -> str | None:
    """The first comment of the leading comment block that declares the graph directed."""
    header = _HEADER_BLOCK.match(text)
    for line in header.group(0).split("\n") if header else ():
        found = _declared_directed(line)
        if found:
            return found
    return None


def _integer_pairs(body: str) -> np.ndarray | None:
    """All ids ``[u1, v1, u2, v2, ...]`` as int64 if every line of ``body`` (comments already
    emptied) is blank or two canonical non-negative integers (no sign, no leading zero, at
    most 18 digits: the text of such an id is ``str`` of its value, so nothing is lost);
    None otherwise (the caller then parses text tokens).

    The check runs on the bytes with numpy and the numbers are parsed by
    ``np.fromstring``: about 0.2 s for a million-edge file, against 3 s for a line loop.
    """
    try:
        raw = np.frombuffer(body.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        return None
    if raw.size == 0:
        return np.empty(0, dtype=np.int64)
    digit = (raw >= 48) & (raw <= 57)
    newline = raw == 10
    if not (digit | newline | (raw == 32) | (raw == 9) | (raw == 13)).all():
        return None
    after = np.concatenate((digit[1:], [False]))
    first = digit & ~np.concatenate(([False], digit[:-1]))
    last = digit & ~after
    starts, ends = np.flatnonzero(first), np.flatnonzero(last)
    if starts.size == 0:
        return np.empty(0, dtype=np.int64)
    if (ends - starts).max() >= 18 or np.any((raw[starts] == 48) & (ends > starts)):
        return None
    # the line of each number: newlines before its first digit (not a cumulative sum over
    # every byte, which would take 8 bytes of memory per byte of text)
    per_line = np.bincount(np.searchsorted(np.flatnonzero(newline), starts))
    if np.any((per_line != 0) & (per_line != 2)):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        values = np.fromstring(body, dtype=np.int64, sep=" ")
    return values if values.size == starts.size else None


def _parse_lines(text: str, source: str) -> tuple[list[str], str | None]:
    """Line-by-line parse with the exact line number of the first malformed line."""
    tokens: list[str] = []
    declared: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped[0] in _COMMENT_CHARS:
            if declared is None and not tokens:
                declared = _declared_directed(stripped)
            continue
        parts = stripped.split()
        if len(parts) != 2:
            raise MalformedEdgeListError(source, number, stripped, f"{len(parts)} fields")
        tokens.extend(parts)
    return tokens, declared


def from_edges(edges: Iterable[tuple[Hashable, Hashable]], *, nodes: Iterable[Hashable] | None = None,
               directed: DirectedPolicy = "reject", source: str = "<edges>") -> Graph:
    """Build a :class:`Graph` from ``(u, v)`` pairs of node ids, with the same policy as files.

    ``nodes`` optionally fixes the node order and adds isolated nodes; otherwise nodes are
    ordered as in :func:`load_edge_list` when all ids are ints or all are strings, and by
    first appearance for other mixes.
    """
    _check_policy(directed)
    pairs = list(edges)
    for k, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InputError(f"{source}: edge {k} must be a pair (u, v), got {pair!r}")
    if nodes is not None:
        names: list[Hashable] = list(nodes)
        if len(set(names)) != len(names):
            raise InputError(f"{source}: the node list has repeated ids")
    else:
        seen = dict.fromkeys(x for pair in pairs for x in pair)
        keys = list(seen)
        if keys and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in keys):
            names = sorted(keys)
        elif keys and all(isinstance(x, str) for x in keys):
            names = list(_node_order(keys))  # type: ignore[arg-type]
        else:
            names = keys
    index = {name: i for i, name in enumerate(names)}
    try:
        src = np.fromiter((index[p[0]] for p in pairs), dtype=np.int64, count=len(pairs))
        dst = np.fromiter((index[p[1]] for p in pairs), dtype=np.int64, count=len(pairs))
    except KeyError as exc:
        raise InputError(f"{source}: edge endpoint {exc.args[0]!r} is not in the node list") from None
    if not pairs:
        raise EmptyGraphError(f"{source} has no edge; a graph needs at least one edge")
    return _build(names, src, dst, source=source, directed=directed, declared_directed=None)


def from_networkx(graph: Any, *, directed: DirectedPolicy = "reject") -> Graph:
    """Convert a networkx graph; a ``DiGraph`` follows the ``directed`` policy like a file.

    networkx itself is not imported (it is an optional dependency, ``pip install networkx``):
    ``graph`` is read through its methods (``nodes``, ``edges``, ``is_directed``...).
    """
    if not _is_networkx_graph(graph):
        raise InputError(f"graph must be a networkx graph (networkx is optional: pip install networkx), "
                         f"got {type(graph).__name__}")
    source = f"<networkx {type(graph).__name__} with {graph.number_of_nodes()} nodes>"
    if graph.is_multigraph():
        raise GraphInputError(f"{source} is a multigraph; PMCB needs a simple graph")
    declared = None
    if graph.is_directed():
        _check_policy(directed)
        if directed == "reject":
            raise DirectedGraphError(f"{source} is directed; pass directed='symmetrize' to use its undirected "
                                     "version (an edge {u, v} wherever u->v or v->u)")
        declared = "networkx DiGraph"
    return _build(list(graph.nodes), *_positions(graph), source=source, directed="symmetrize",
                  declared_directed=declared)


def _is_networkx_graph(graph: Any) -> bool:
    return all(hasattr(graph, name) for name in ("is_directed", "is_multigraph", "nodes", "edges",
                                                  "number_of_nodes", "number_of_edges"))


def _positions(graph: Any) -> tuple[np.ndarray, np.ndarray]:
    index = {v: i for i, v in enumerate(graph.nodes)}
    m = graph.number_of_edges()
    src = np.fromiter((index[u] for u, _ in graph.edges), dtype=np.int64, count=m)
    dst = np.fromiter((index[v] for _, v in graph.edges), dtype=np.int64, count=m)
    return src, dst


def as_graph(graph: Any, *, directed: DirectedPolicy = "reject") -> Graph:
    """A :class:`Graph` from a Graph (returned as is), a networkx graph or an edge-list path."""
    _check_policy(directed)
    if isinstance(graph, Graph):
        return graph
    if isinstance(graph, (str, Path)):
        return load_edge_list(graph, directed=directed)
    if _is_networkx_graph(graph):
        return from_networkx(graph, directed=directed)
    raise InputError(f"graph must be a Graph, a networkx graph or an edge-list path, got {type(graph).__name__}")
