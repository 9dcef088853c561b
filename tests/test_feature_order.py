"""nox -s validate runs the cluster-free features first (they run while a fresh machine's
cluster still builds) and the local-cluster feature, which wipes the cluster, last."""

from __future__ import annotations

from build_scripts.core import paths
from build_scripts.validation import feature_order


def test_features_that_need_the_cluster_come_after_those_that_do_not(tmp_path):
    (tmp_path / "a-deploy.feature").write_text(
        "Feature: x\n  Scenario: y\n    Given the local cluster is up\n"
    )
    (tmp_path / "local-cluster.feature").write_text(
        "Feature: x\n    Given the local cluster is up\n"
    )
    (tmp_path / "z-desktop.feature").write_text("Feature: x\n  Scenario: y\n    Given a release\n")
    names = [p.name for p in feature_order.ordered(tmp_path)]
    assert names == ["z-desktop.feature", "a-deploy.feature", "local-cluster.feature"]


def test_every_feature_of_the_repository_is_run_once_and_local_cluster_last():
    folder = paths.repo_root() / "features"
    ordered = feature_order.ordered(folder)
    assert sorted(ordered) == sorted(folder.glob("*.feature"))
    assert ordered[-1].name == "local-cluster.feature"
    needs = [feature_order.NEEDS_CLUSTER in p.read_text() for p in ordered]
    assert needs == sorted(needs), "a cluster-free feature runs after one that needs the cluster"


def test_the_two_parts_split_the_features_by_the_daemons_they_share(tmp_path):
    (tmp_path / "deploy.feature").write_text(
        "Feature: x\n  Scenario: y\n    Given the local cluster is up\n"
    )
    (tmp_path / "images.feature").write_text("Feature: x\n  @fixture.docker\n  Scenario: y\n")
    (tmp_path / "desktop.feature").write_text("Feature: x\n  Scenario: y\n    Given a release\n")
    daemons = [p.name for p in feature_order.ordered(tmp_path, "daemons")]
    standalone = [p.name for p in feature_order.ordered(tmp_path, "standalone")]
    assert daemons == ["images.feature", "deploy.feature"]
    assert standalone == ["desktop.feature"]


def test_the_parts_of_the_repository_together_are_every_feature_once():
    folder = paths.repo_root() / "features"
    daemons = feature_order.ordered(folder, "daemons")
    standalone = feature_order.ordered(folder, "standalone")
    assert sorted(daemons + standalone) == sorted(folder.glob("*.feature"))
    assert daemons[-1].name == "local-cluster.feature"
    assert not set(daemons) & set(standalone)
