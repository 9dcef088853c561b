"""One release step in its own process: `python -m build_scripts.release.worker …`.

The scheduler starts one worker per step that must run, so steps run side by side with their
own output (which the scheduler prefixes with the step name) and can be stopped one by one.
The worker writes the step's artifacts (path and note) as JSON to the result file it is given;
the scheduler records the step as complete only after the worker exited 0.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from build_scripts.core import atomic
from build_scripts.core.errors import ReleaseError
from build_scripts.core.metadata import Release, Version

DEFAULT_FACTORY = "build_scripts.release.steps:standard_steps"


def release_to_json(release: Release) -> str:
    return json.dumps(dataclasses.asdict(release))


def release_from_json(text: str) -> Release:
    data = json.loads(text)
    return Release(**{**data, "version": Version(**data["version"])})


def load_steps(factory: str) -> list:
    module, _, function = factory.partition(":")
    return getattr(importlib.import_module(module), function)()


def _stop_when_orphaned(parent: int) -> None:
    """A release killed with SIGKILL cannot stop its steps; they stop themselves (Ctrl-C
    semantics: the running command is killed, temporary files are removed)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGINT)


def main(argv: list[str]) -> int:
    factory, name, release_file, result_file = argv
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    release = release_from_json(Path(release_file).read_text())
    step = next(s for s in load_steps(factory) if s.name == name)
    try:
        artifacts = step.produce(release)
    except ReleaseError as error:
        print(f"error: {error.one_line()}", file=sys.stderr, flush=True)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception:  # a bug: shown whole; the scheduler names the step
        traceback.print_exc()
        return 1
    result = [{"path": str(a.path), "note": a.note} for a in artifacts]
    atomic.write_text(Path(result_file), json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
