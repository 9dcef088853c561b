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
from build_scripts.release.options import BuildOptions

DEFAULT_FACTORY = "build_scripts.release.steps:standard_steps"


def release_to_json(release: Release) -> str:
    return json.dumps(dataclasses.asdict(release))


def release_from_json(text: str) -> Release:
    data = json.loads(text)
    return Release(**{**data, "version": Version(**data["version"])})


def load_steps(factory: str, options: BuildOptions | None = None) -> list:
    """The factory's steps; built with the task's options when it passed some."""
    module, _, function = factory.partition(":")
    make = getattr(importlib.import_module(module), function)
    return make(options) if options is not None else make()


def _stop_when_orphaned(parent: int) -> None:
    """A release killed with SIGKILL cannot stop its steps; they stop themselves (Ctrl-C
    semantics: the running command is killed, temporary files are removed)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGINT)


def main(argv: list[str]) -> int:
    factory, name, release_file, result_file, *options_file = argv
    # The scheduler stops a step with SIGINT; a release started where SIGINT is ignored (a
    # background job of a non-interactive shell) would otherwise pass that on to its workers.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    release = release_from_json(Path(release_file).read_text())
    options = BuildOptions.from_json(Path(options_file[0]).read_text()) if options_file else None
    step = next(s for s in load_steps(factory, options) if s.name == name)
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
    result = [
        {"path": str(a.path), "note": a.note, "kind": str(a.kind), "of": a.of} for a in artifacts
    ]
    atomic.write_text(Path(result_file), json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
