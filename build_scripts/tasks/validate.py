"""validate.soak and validate.churn: the firewall soak that proves no two programs overwrite
each other's rules (build_scripts/validation/soak.py)."""

from __future__ import annotations

from invoke import Collection, Exit

from build_scripts.cluster import firewall_churn
from build_scripts.core import paths
from build_scripts.core.progress import say
from build_scripts.tasks._base import release_task
from build_scripts.tasks.cluster import _options as cluster_options
from build_scripts.validation import soak as soak_run
from build_scripts.validation import together as together_run


@release_task(
    help={
        "rounds": "rounds to run (default 10)",
        "max_minutes": "no round starts after this many minutes (default 90)",
        "feature": "a feature file behave runs each round (repeatable; default: "
        "container-images and kubernetes-deployment); --feature none runs the churn alone",
    },
    iterable=["feature"],
)
def soak(c, rounds=10, max_minutes=90.0, feature=None):
    """Soak: Docker-network and deploy scenarios with pod/network churn, round after round."""
    features = tuple(feature) if feature else soak_run.DEFAULT_FEATURES
    if features == ("none",):
        features = ()
    report_path = paths.reports_dir() / "soak.json"
    report = soak_run.soak(
        cluster_options(c),
        rounds=int(rounds),
        max_seconds=float(max_minutes) * 60,
        features=features,
        report_path=report_path,
    )
    say(soak_run.summary(report))
    say(f"written to {report_path}")
    if report.failures:
        raise Exit(f"error: {report.failures} of {len(report.rounds)} soak rounds failed", code=1)


@release_task(help={"rounds": "churn rounds (default 3)"})
def churn(c, rounds=3):
    """Churn pods and Docker networks side by side; check every firewall owner's rules."""
    options = cluster_options(c)
    failed = 0
    for result in firewall_churn.churn(options.layout, int(rounds)):
        failed += not result.ok
        say(
            f"{'✓' if result.ok else '✗'} churn round {result.number}: {result.pods_made} pods, "
            f"{result.networks_made} networks, {result.engine_syncs} engine syncs, "
            f"missing: {', '.join(result.missing) or 'none'}"
            + (f"; error: {result.error}" if result.error else "")
        )
    if failed:
        raise Exit(f"error: {failed} of {rounds} churn rounds lost rules or failed", code=1)


@release_task(
    help={
        "group": "nox sessions one nox runs in order, e.g. 'lint tests app'; repeatable: the "
        "groups run at the same time"
    },
    iterable=["group"],
)
def together(c, group=None):
    """Run groups of nox sessions side by side, each line prefixed; fails if any group fails."""
    groups = [g.replace(",", " ").split() for g in group or []]
    runs = together_run.run_together(groups)
    say(together_run.summary(runs))
    status = together_run.exit_status(runs)
    if status:
        failed = ", ".join(r.name for r in runs if r.returncode != 0)
        raise Exit(f"error: nox failed in {failed}", code=status)


ns = Collection(soak, churn, together)
