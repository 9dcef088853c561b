"""The slowest scenarios of a behave run, read from its JUnit files.

`nox -s validate` prints them at the end of every run, pass or fail, and writes them to
reports/slowest-scenarios.json: where the time goes is seen every run, not estimated.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass
from pathlib import Path

from build_scripts.core import atomic, paths
from build_scripts.core.progress import format_seconds, table, warn


@dataclass(frozen=True)
class ScenarioTime:
    feature: str
    scenario: str
    seconds: float
    status: str


def scenario_times(
    junit_dir: Path, *, since: float = 0.0, features: list[str] | None = None
) -> list[ScenarioTime]:
    """Every scenario of the JUnit files written at or after `since` (a Unix time), so that the
    files of an earlier run's features that this run left out do not count; with `features`
    (feature files, as behave was given them) only theirs, so that a part of the scenarios run
    beside another part counts its own."""
    wanted = {f"TESTS-{Path(f).stem}.xml" for f in features} if features else None
    times = []
    for path in sorted(junit_dir.glob("*.xml")):
        if path.stat().st_mtime < since or (wanted is not None and path.name not in wanted):
            continue
        try:
            root = ElementTree.parse(path).getroot()
        except ElementTree.ParseError as error:
            warn(f"{path}: not JUnit XML ({error}); left out of the slowest scenarios")
            continue
        for case in root.iter("testcase"):
            status = case.get("status") or (
                "failed"
                if case.find("failure") is not None or case.find("error") is not None
                else "passed"
            )
            times.append(
                ScenarioTime(
                    feature=case.get("classname", path.stem),
                    scenario=case.get("name", "?"),
                    seconds=float(case.get("time") or 0.0),
                    status=status,
                )
            )
    return times


def slowest(times: list[ScenarioTime], count: int = 10) -> list[ScenarioTime]:
    return sorted(times, key=lambda t: t.seconds, reverse=True)[:count]


def report(
    junit_dir: Path,
    output: Path,
    *,
    since: float = 0.0,
    count: int = 10,
    features: list[str] | None = None,
) -> str:
    """The table of the `count` slowest scenarios; the same figures are written to `output`."""
    times = scenario_times(junit_dir, since=since, features=features)
    top = slowest(times, count)
    atomic.write_text(
        output,
        json.dumps(
            {
                "scenarios": len(times),
                "total_seconds": round(sum(t.seconds for t in times), 1),
                "slowest": [asdict(t) for t in top],
            },
            indent=2,
        )
        + "\n",
    )
    rows = [("seconds", "status", "scenario")]
    rows += [(format_seconds(t.seconds), t.status, f"{t.feature}: {t.scenario}") for t in top]
    total = format_seconds(sum(t.seconds for t in times))
    return (
        f"{len(top)} slowest of {len(times)} scenarios ({total} in all):\n"
        + table(rows, rule=True)
        + f"\nwritten to {output}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit-dir", type=Path, default=paths.reports_dir() / "junit")
    parser.add_argument("--output", type=Path, help="default: reports/slowest-scenarios.json")
    parser.add_argument(
        "--part",
        help="a part of the features run beside another (validate-PART): its own report, "
        "reports/slowest-scenarios-PART.json",
    )
    parser.add_argument("--since", type=float, default=0.0, help="Unix time the run started")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("features", nargs="*", help="only these feature files' scenarios")
    args = parser.parse_args(argv)
    name = f"slowest-scenarios-{args.part}.json" if args.part else "slowest-scenarios.json"
    args.output = args.output or paths.reports_dir() / name
    if not args.junit_dir.is_dir():
        print(f"error: no JUnit folder {args.junit_dir}: did behave run?", file=sys.stderr)
        return 2
    print(
        report(
            args.junit_dir, args.output, since=args.since, count=args.count, features=args.features
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
