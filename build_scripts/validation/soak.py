"""The firewall soak: the scenarios that mix Docker networks with the cluster's pod churn, over
and over, and the direct churn check between them, bounded in time.

A round runs behave on the features that make Docker networks (container-images) and those
that create and replace pods (the deploy features), then one churn round (firewall_churn.py:
pods and Docker networks made side by side, then every owner's rules checked). A round fails
if behave fails a scenario or a rule is missing; no round is ever retried.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from build_scripts.cluster import firewall_churn
from build_scripts.cluster import lifecycle as cluster
from build_scripts.cluster.options import ClusterOptions
from build_scripts.core import atomic, cmd, paths
from build_scripts.core.errors import ReleaseError
from build_scripts.core.progress import format_seconds, say, table

DEFAULT_FEATURES = ("features/container-images.feature", "features/kubernetes-deployment.feature")


@dataclass
class SoakRound:
    number: int
    seconds: float = 0.0
    behave: str = "not run"  # "passed", "failed (exit N)", "not run"
    churn: dict = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        churn_failed = bool(self.churn) and not self.churn.get("ok", False)
        return self.behave.startswith("failed") or churn_failed


@dataclass
class SoakReport:
    rounds: list[SoakRound]
    seconds: float
    stopped_early: str = ""

    @property
    def failures(self) -> int:
        return sum(1 for r in self.rounds if r.failed)

    def as_json(self) -> dict:
        return {
            "rounds": len(self.rounds),
            "failures": self.failures,
            "seconds": round(self.seconds, 1),
            "stopped_early": self.stopped_early,
            "details": [{**asdict(r), "failed": r.failed} for r in self.rounds],
        }


def _behave(features: tuple[str, ...], junit_dir: Path) -> str:
    argv = [sys.executable, "-m", "behave", "--junit", "--junit-directory", str(junit_dir)]
    # Streamed as it runs: a soak round takes minutes.
    completed = cmd.run([*argv, *features], step="soak", cwd=paths.repo_root(), check=False)
    return "passed" if completed.returncode == 0 else f"failed (exit {completed.returncode})"


def soak(
    options: ClusterOptions,
    *,
    rounds: int,
    max_seconds: float,
    features: tuple[str, ...] = DEFAULT_FEATURES,
    report_path: Path,
) -> SoakReport:
    """Up to `rounds` rounds, stopping before a round would start past `max_seconds`."""
    if rounds < 1:
        raise ReleaseError("the soak needs at least one round", "pass --rounds 1 or more")
    started = time.monotonic()
    cluster.up(options)
    done: list[SoakRound] = []
    report = SoakReport(done, 0.0)
    junit_root = paths.reports_dir() / "soak"
    with firewall_churn.Churn(options.layout) as churning:
        _rounds(churning, rounds, max_seconds, features, junit_root, started, report)
    report.seconds = time.monotonic() - started
    atomic.write_text(report_path, json.dumps(report.as_json(), indent=2) + "\n")
    return report


def _rounds(
    churning: firewall_churn.Churn,
    rounds: int,
    max_seconds: float,
    features: tuple[str, ...],
    junit_root: Path,
    started: float,
    report: SoakReport,
) -> None:
    done = report.rounds
    for number in range(1, rounds + 1):
        elapsed = time.monotonic() - started
        if done and elapsed + done[-1].seconds > max_seconds:
            report.stopped_early = (
                f"time bound {format_seconds(max_seconds)} reached after {len(done)} rounds"
            )
            break
        say(f"▶ soak round {number}/{rounds}")
        round_started = time.monotonic()
        result = SoakRound(number)
        if features:
            result.behave = _behave(features, junit_root / f"round-{number}")
        churn = churning.round()
        result.churn = {**asdict(churn), "ok": churn.ok}
        result.seconds = time.monotonic() - round_started
        done.append(result)
        say(
            f"{'✗' if result.failed else '✓'} soak round {number}: behave {result.behave}; "
            f"churn {churn.pods_made} pods, {churn.networks_made} networks, "
            f"{churn.engine_syncs} engine syncs, missing rules: {churn.missing or 'none'}"
            + (f", error: {churn.error}" if churn.error else "")
            + f" ({format_seconds(result.seconds)})"
        )


def summary(report: SoakReport) -> str:
    rows = [("round", "seconds", "behave", "syncs", "missing rules")]
    for r in report.rounds:
        rows.append(
            (
                str(r.number),
                format_seconds(r.seconds),
                r.behave,
                str(r.churn.get("engine_syncs", "-")),
                ", ".join(r.churn.get("missing", [])) or r.churn.get("error", "") or "none",
            )
        )
    line = (
        f"soak: {len(report.rounds)} rounds, {report.failures} failed, "
        f"{format_seconds(report.seconds)}"
    )
    if report.stopped_early:
        line += f" ({report.stopped_early})"
    return table(rows, rule=True) + "\n" + line
