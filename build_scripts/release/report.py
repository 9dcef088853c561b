"""The release report: reports/release-<version>.html, one self-contained page per release.

It reads what is already on disk and changes nothing: the last run's record (state.RunRecord:
each step's times, outcome and the input that made it run), the folder's SHA256SUMS,
release.json, provenance and SBOMs, the desktop app's screenshot from `desktop.smoke`, and
reports/history.jsonl (trends.py, plots.py). The page is templates/report.html.j2 rendered
with Jinja2: styles inline, plots inline SVG, the screenshot a data: URI, no script, and a
Content-Security-Policy that lets it load nothing, so it opens the same from a mail
attachment, a CI artifact or an air-gapped site. `invoke release` writes it at the end of
every run (a failed one too), `invoke report` for an existing release.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import jinja2

from build_scripts.bundle import names as bundle_names
from build_scripts.core import atomic, jsonfile, paths, sums
from build_scripts.core.artifacts import MB, human_size
from build_scripts.core.errors import VerificationFailed
from build_scripts.core.metadata import Release
from build_scripts.core.progress import format_seconds, warn
from build_scripts.release import folder, graph, history, pipeline, provenance, state, trends
from build_scripts.release.digests import DigestCache

TEMPLATES = Path(__file__).with_name("templates")
# An artifact more than this much larger than in the previous release is highlighted.
GROWTH = 0.05
OUTCOMES = ("ran", "up to date", "failed", "not started", "interrupted")


def report_path(release: Release) -> Path:
    return paths.reports_dir() / f"release-{release.version_text}.html"


def screenshot_path(release: Release) -> Path:
    """Where `invoke desktop.smoke` saves the desktop app's window (tasks/desktop.py)."""
    return paths.reports_dir() / "screenshots" / f"desktop-linux-{release.version_text}.png"


def shown_path(path: Path) -> str:
    """Relative to the current folder when inside it (`reports/release-1.2.0.html`)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class ArtifactRow:
    path: str
    size: int | None
    sha256: str
    step: str
    note: str
    stale: str
    # The digest of the file now differs from the one listed (or the file is gone).
    mismatch: bool
    previous: int | None

    @property
    def human_size(self) -> str:
        return "missing" if self.size is None else human_size(self.size)

    @property
    def change(self) -> float | None:
        if self.size is None or not self.previous:
            return None
        return (self.size - self.previous) / self.previous

    @property
    def grown(self) -> bool:
        return self.change is not None and self.change > GROWTH


def _json_file(path: Path) -> dict:
    return jsonfile.read_object(
        path, broken=lambda error: warn(f"{path} does not parse, the report leaves it out: {error}")
    )


def listed_digests(release: Release) -> dict[str, str] | None:
    """SHA256SUMS of the folder as path -> digest; None when there is none (or it is broken)."""
    path = release.dist_dir / folder.SUMS
    try:
        return sums.parse_sums(path.read_text(), str(path))
    except FileNotFoundError:
        return None
    except VerificationFailed as error:
        warn(f"{error.one_line()}; the report lists the files instead")
        return None


def comparable(path: str, version: str, commit: str) -> str:
    """An artifact's path with its release taken out, to find it in another release: the
    version (the installer's name) and the short commit (the wheel's local version,
    `0.7.0.dev0+g1a2b3c4d`)."""
    path = path.replace(version, "{v}") if version else path
    return path.replace(commit[:8], "{c}") if len(commit) >= 8 else path


def artifact_rows(
    release: Release, cache: DigestCache, manifest: dict, previous: dict | None
) -> list[ArtifactRow]:
    """Every file SHA256SUMS lists, or when there is none every file of the folder, with its
    size now and in the previous release (paths compared with the version taken out)."""
    listed = listed_digests(release)
    described = {a.get("path"): a for a in manifest.get("artifacts", []) if isinstance(a, dict)}
    earlier = {}
    if previous:
        version, commit = str(previous.get("version", "")), str(previous.get("commit", ""))
        for path, size in (previous.get("sizes") or {}).items():
            earlier[comparable(path, version, commit)] = size
    if listed is None:
        files = folder.artifact_files(release.dist_dir)
        listed = {p.relative_to(release.dist_dir).as_posix(): cache.sha256(p) for p in files}
    rows = []
    for relative, digest in sorted(listed.items()):
        path = release.dist_dir / relative
        size = path.stat().st_size if path.is_file() else None
        now = cache.sha256(path) if size is not None else ""
        about = described.get(relative, {})
        rows.append(
            ArtifactRow(
                relative,
                size,
                digest,
                str(about.get("step", "")),
                str(about.get("note", "")),
                str(about.get("stale", "")),
                now != digest,
                earlier.get(comparable(relative, release.version_text, release.commit)),
            )
        )
    return rows


@dataclass(frozen=True)
class TimelineRow:
    name: str
    description: str
    status: str
    why: str
    ready: float | None
    start: float | None
    end: float | None
    total: float

    def _percent(self, seconds: float | None) -> float:
        return round(100 * (seconds or 0.0) / self.total, 2)

    @property
    def waited(self) -> float:
        if self.ready is None or self.start is None:
            return 0.0
        return max(0.0, self.start - self.ready)

    @property
    def took(self) -> float:
        if self.start is None or self.end is None:
            return 0.0
        return max(0.0, self.end - self.start)

    @property
    def wait_bar(self) -> tuple[float, float]:
        return self._percent(self.ready), self._percent(self.waited)

    @property
    def run_bar(self) -> tuple[float, float]:
        """left and width in per cent of the run; at least a sliver, so an instant shows."""
        at = self.start if self.start is not None else self.ready
        return min(self._percent(at), 99.4), max(self._percent(self.took), 0.6)

    def clock(self, seconds: float | None) -> str:
        return "—" if seconds is None else format_seconds(seconds)


def timeline(run: state.RunRecord | None) -> list[TimelineRow]:
    if run is None:
        return []
    ends = [s.get("end") or s.get("start") or 0.0 for s in run.steps]
    total = max([run.seconds, *ends, 0.01])
    return [
        TimelineRow(
            s["name"],
            s.get("description", ""),
            s.get("status", "not started"),
            s.get("why") or s.get("reason", ""),
            s.get("ready"),
            s.get("start"),
            s.get("end"),
            total,
        )
        for s in run.steps
    ]


def missing_steps(
    release: Release, steps: list[graph.Step], run: state.RunRecord | None
) -> list[tuple[str, str]]:
    """The steps of a default release that have not completed for this folder, and why: what
    the last run said (failed, not started), or no record of them at all."""
    said = {s["name"]: s for s in (run.steps if run else [])}
    missing = []
    for step in steps:
        if not step.by_default:
            continue
        line = said.get(step.name)
        if line and line.get("status") not in ("ran", "up to date"):
            missing.append((step.name, f"{line['status']}: {line.get('reason', '')}".rstrip(": ")))
        elif state.load_record(release.dist_dir, step.name) is None:
            missing.append((step.name, "no completed run of it for this folder"))
    return missing


def _components(tree: list) -> list[dict]:
    found = []
    for component in tree:
        if isinstance(component, dict):
            found.append(component)
            found += _components(component.get("components") or [])
    return found


def _licences(component: dict) -> list[str]:
    names = []
    for entry in component.get("licenses") or []:
        if not isinstance(entry, dict):
            continue
        licence = entry.get("license") if isinstance(entry.get("license"), dict) else {}
        name = licence.get("id") or licence.get("name") or entry.get("expression")
        if name:
            names.append(str(name))
    return names or ["not declared"]


def sbom_summary(release: Release) -> list[dict]:
    """Per SBOM of the folder: its file, component count and licences with their counts."""
    found = []
    for path in sorted(release.dist_dir.glob(f"sbom/*{folder.SBOM_SUFFIX}")):
        bom = _json_file(path)
        components = _components(bom.get("components") or [])
        licences = collections.Counter(n for c in components for n in _licences(c))
        found.append(
            {
                "file": path.relative_to(release.dist_dir).as_posix(),
                "components": len(components),
                "licences": licences.most_common(),
            }
        )
    return found


def provenance_subjects(release: Release, listed: dict[str, str]) -> list[dict]:
    statement = _json_file(release.dist_dir / provenance.FILE_NAME)
    subjects = []
    for subject in statement.get("subject") or []:
        digest = (subject.get("digest") or {}).get("sha256", "")
        name = subject.get("name", "")
        subjects.append({"name": name, "sha256": digest, "agrees": listed.get(name) == digest})
    return subjects


def bundle_status(release: Release, manifest: dict, rows: list[ArtifactRow]) -> str:
    made = manifest.get("bundle")
    name = bundle_names.file_name(release)
    row = next((r for r in rows if r.path == name), None)
    if not isinstance(made, dict) or row is None:
        return "no bundle: it is made on request, by invoke bundle"
    signature = made.get("signature")
    signed = "signed (OpenPGP)" if isinstance(signature, dict) else "unsigned"
    stale = f"; STALE: {row.stale}" if row.stale else ""
    return f"{name}: {signed}{stale}"


def feed_status(manifest: dict) -> str:
    """The release's update feed: none yet (release.json has no `feed`)."""
    feed = manifest.get("feed")
    if not isinstance(feed, dict):
        return "no feed"
    return f"{feed.get('file', 'feed')}: {'signed' if feed.get('signature') else 'unsigned'}"


def screenshot_data(release: Release) -> str:
    path = screenshot_path(release)
    if not path.is_file():
        return ""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def as_built(release: Release, manifest: dict, run: state.RunRecord | None) -> Release:
    """The release with the commit its folder was built from (release.json's, else the last
    run's): `invoke report --version V` of an older release is not about HEAD."""
    commit = manifest.get("commit") or (run.commit if run else "")
    return dataclasses.replace(release, commit=commit) if commit else release


def gather(release: Release, steps: list[graph.Step], cache: DigestCache) -> dict:
    """Everything the page shows, read from disk."""
    run = state.load_run(release.dist_dir)
    manifest = _json_file(release.dist_dir / folder.MANIFEST)
    release = as_built(release, manifest, run)
    if run is not None and (run.version, run.commit) != (release.version_text, release.commit):
        run = None  # a record of another build of this folder's version
    entries = history.read()
    previous = history.previous_release(entries, release.version_text, release.commit)
    rows = artifact_rows(release, cache, manifest, previous)
    listed = {r.path: r.sha256 for r in rows}
    return {
        "release": release,
        "run": run,
        "started": history.now_text(run.started) if run else "",
        "timeline": timeline(run),
        "outcomes": OUTCOMES,
        "missing": missing_steps(release, steps, run),
        "described": (release.dist_dir / folder.SUMS).is_file(),
        "artifacts": rows,
        "previous": previous,
        "total_size": sum(r.size or 0 for r in rows) / MB,
        "history_entries": len(entries),
        "history_limit": history.MAX_ENTRIES,
        "plots": trends.all_plots(entries),
        "screenshot": screenshot_data(release),
        "sboms": sbom_summary(release),
        "subjects": provenance_subjects(release, listed),
        "bundle": bundle_status(release, manifest, rows),
        "feed": feed_status(manifest),
        "growth": GROWTH,
        "format_seconds": format_seconds,
    }


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(model: dict) -> str:
    return _environment().get_template("report.html.j2").render(**model)


def write_report(release: Release, steps: list[graph.Step]) -> Path:
    """Write reports/release-<version>.html for the release as it is on disk now."""
    cache = pipeline.digest_cache(release)
    page = render(gather(release, steps, cache))
    cache.save()
    return atomic.write_text(report_path(release), page)
