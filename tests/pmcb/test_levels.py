"""Tests of cluster influence and level assignment (crowdsense.pmcb.levels).

Expected values are cluster means and rankings worked out by hand, or recomputed with plain
Python loops from the definitions (paper eq. 2).
"""

from __future__ import annotations

import numpy as np
import pytest

from crowdsense.errors import InputError
from crowdsense.pmcb.levels import assign_levels, cluster_influence

# Columns: D, BC, Lc, I_f.
X = np.array([
    [1.0, 0.00, 0.0, 0.6931],   # cluster 7
    [2.0, 0.10, 0.5, 1.0000],   # cluster 7
    [10.0, 0.50, 0.1, 2.0000],  # cluster 3
    [12.0, 0.30, 0.3, 2.2000],  # cluster 3
    [4.0, 0.00, 1.0, 1.0986],   # cluster 5
])
LABELS = np.array([7, 7, 3, 3, 5])


def test_influence_terms_are_cluster_means_in_paper_order():
    terms = cluster_influence(X, LABELS)  # rows by sorted label: 3, 5, 7
    ad, alc, abc, aif = 11.0, 0.2, 0.4, 2.1
    assert terms[0] == pytest.approx([ad, alc, abc, aif, ad + alc + abc + aif])
    assert terms[1] == pytest.approx([4.0, 1.0, 0.0, 1.0986, 4.0 + 1.0 + 0.0 + 1.0986])
    assert terms[2] == pytest.approx([1.5, 0.25, 0.05, 0.84655, 1.5 + 0.25 + 0.05 + 0.84655])


def test_most_influential_cluster_gets_level_t_and_least_level_1():
    result = assign_levels(X, LABELS)
    # I: cluster 3 = 13.7, cluster 5 = 6.0986, cluster 7 = 2.64655.
    assert result.levels.tolist() == [1, 1, 3, 3, 2]
    assert [c.level for c in result.clusters] == [1, 2, 3]
    assert [c.size for c in result.clusters] == [2, 1, 2]
    assert result.clusters[2].I == pytest.approx(13.7)


def test_levels_follow_influence_on_random_partitions():
    rng = np.random.default_rng(0)
    for t in (2, 3, 5, 8):
        x = np.column_stack([rng.integers(1, 50, 200), rng.random(200) * 0.1, rng.random(200), rng.random(200) * 4])
        labels = rng.integers(0, t, 200)
        labels[:t] = np.arange(t)  # every cluster present
        result = assign_levels(x, labels)
        influence = {}
        for c in range(t):
            rows = [x[i] for i in range(200) if labels[i] == c]
            influence[c] = sum(sum(r[j] for r in rows) / len(rows) for j in range(4))
        ranked = sorted(range(t), key=lambda c: influence[c])
        expected = {c: ranked.index(c) + 1 for c in range(t)}
        assert result.levels.tolist() == [expected[c] for c in labels]
        assert sorted(set(result.levels.tolist())) == list(range(1, t + 1))


def test_normalized_variant_scales_features_before_averaging():
    # Paper: cluster A (high degree) wins. After min-max scaling the three [0, 1] features
    # of cluster B outweigh A's degree.
    x = np.array([[100.0, 0.0, 0.0, 0.0], [90.0, 0.0, 0.0, 0.0], [10.0, 1.0, 1.0, 5.0], [12.0, 0.9, 1.0, 5.0]])
    labels = np.array([0, 0, 1, 1])
    assert assign_levels(x, labels).levels.tolist() == [2, 2, 1, 1]
    normalized = assign_levels(x, labels, influence="normalized")
    assert normalized.levels.tolist() == [1, 1, 2, 2]
    # scaled cluster 0: D (1 + 0.888..)/2, others 0; cluster 1: D (0 + 2/90)/2, BC 0.95, Lc 1, I_f 1
    assert normalized.clusters[1].I == pytest.approx((0 + 2 / 90) / 2 + 0.95 + 1 + 1)


def test_equal_influence_broken_by_first_node():
    x = np.array([[3.0, 0, 0, 0], [5.0, 0, 0, 0], [4.0, 0, 0, 0], [4.0, 0, 0, 0]])
    labels = np.array([1, 0, 0, 1])  # both clusters have mean degree 4
    result = assign_levels(x, labels)
    # cluster 1 (first node 0) ranks below cluster 0 (first node 1)
    assert result.levels.tolist() == [1, 2, 2, 1]


def test_level_of_label_maps_input_labels():
    result = assign_levels(X, LABELS)
    uniq = np.unique(LABELS)
    assert {int(u): int(result.level_of_label[i]) for i, u in enumerate(uniq)} == {3: 3, 5: 2, 7: 1}


@pytest.mark.parametrize("labels, match", [
    (np.array([0, 0, 0, 0, 0]), "at least 2 clusters"),
    (np.array([0, 1, 1]), "labels must be 5"),
    (np.array([0.0, 1.0, 1.0, 0.0, 1.0]), "labels must be 5"),
])
def test_bad_labels_rejected(labels, match):
    with pytest.raises(InputError, match=match):
        assign_levels(X, labels)


def test_bad_feature_shape_rejected():
    with pytest.raises(InputError, match="n x 4"):
        assign_levels(X[:, :3], LABELS)


def test_unknown_influence_variant_rejected():
    with pytest.raises(InputError, match="influence must be one of"):
        assign_levels(X, LABELS, influence="sum")


# ------------------------------------------------------------------ found by mutation testing


def test_every_cluster_reports_its_own_means_level_size_and_the_variant() -> None:
    """Each ClusterInfluence carries its cluster's means (worked out by hand from X, as in the
    first test), in the fields named by the paper, and the assignment names its variant."""
    result = assign_levels(X, LABELS)
    assert result.influence == "paper"
    # ordered by level: cluster 7 (level 1), cluster 5 (level 2), cluster 3 (level 3)
    expected = [(1, 2, 1.5, 0.25, 0.05, 0.84655), (2, 1, 4.0, 1.0, 0.0, 1.0986), (3, 2, 11.0, 0.2, 0.4, 2.1)]
    for c, (level, size, ad, alc, abc, aif) in zip(result.clusters, expected):
        assert (c.level, c.size) == (level, size)
        assert (c.AD, c.ALC, c.ABC, c.AIF) == pytest.approx((ad, alc, abc, aif))
        assert c.I == pytest.approx(ad + alc + abc + aif)
        assert c.as_dict() == {"level": c.level, "size": c.size, "AD": c.AD, "ALC": c.ALC, "ABC": c.ABC,
                               "AIF": c.AIF, "I": c.I}
    assert assign_levels(X, LABELS, influence="normalized").influence == "normalized"


def test_levels_are_integers() -> None:
    """Levels are ints 1..T (they are written into the levels tree and compared as such)."""
    result = assign_levels(X, LABELS)
    assert np.issubdtype(result.levels.dtype, np.integer)
    assert np.issubdtype(result.level_of_label.dtype, np.integer)


def test_equal_influence_broken_by_first_node_beyond_the_fifth() -> None:
    """Two clusters with equal mean degree whose first nodes are 5 (label 2) and 6 (label 1):
    the one whose first node comes first ranks lower, whatever the node count or width."""
    x = np.array([[9.0, 0, 0, 0]] * 5 + [[3.0, 0, 0, 0], [4.0, 0, 0, 0], [4.0, 0, 0, 0], [5.0, 0, 0, 0]])
    labels = np.array([0, 0, 0, 0, 0, 2, 1, 1, 2])  # clusters 1 (4, 4) and 2 (3, 5) both have mean degree 4
    result = assign_levels(x, labels)
    assert result.levels.tolist() == [3] * 5 + [1, 2, 2, 1]


def test_normalized_influence_of_a_constant_column_is_zero() -> None:
    """A feature equal on every node scales to 0 (not 0/0): I is the sum of the other scaled means."""
    x = np.array([[0.0, 0.5, 0.0, 1.0], [10.0, 0.5, 1.0, 3.0], [5.0, 0.5, 0.5, 2.0]])
    terms = cluster_influence(x, np.array([0, 1, 1]), influence="normalized")
    # scaled: D 0, 1, 0.5; BC 0; Lc 0, 1, 0.5; I_f 0, 1, 0.5
    assert terms[0] == pytest.approx([0.0, 0.0, 0.0, 0.0, 0.0])
    assert terms[1] == pytest.approx([0.75, 0.75, 0.0, 0.75, 2.25])


def test_cluster_influence_needs_the_four_feature_columns() -> None:
    """cluster_influence itself refuses a matrix that is not n x 4, before looking at the labels."""
    with pytest.raises(InputError, match="n x 4"):
        cluster_influence(X[:, :3], LABELS)
    with pytest.raises(InputError, match="n x 4"):
        cluster_influence(np.column_stack([X, X[:, :1]]), LABELS)
    with pytest.raises(InputError, match="n x 4"):
        assign_levels(X[:, :3], LABELS[:2])  # both wrong: the features are checked first
