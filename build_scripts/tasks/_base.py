"""The task boundary: the only place where engine errors become exit codes."""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback

from invoke import Exit, task

from build_scripts.core.errors import ReleaseError


def debug_enabled() -> bool:
    """`invoke --debug …` or TRADERADMIN_DEBUG=1 show tracebacks."""
    return bool(os.environ.get("TRADERADMIN_DEBUG")) or logging.getLogger("invoke").isEnabledFor(
        logging.DEBUG
    )


def release_task(*args, **kwargs):
    """Like invoke's @task, but a ReleaseError ends the task with one line and its exit code."""

    def decorate(body):
        @functools.wraps(body)
        def guarded(*call_args, **call_kwargs):
            try:
                return body(*call_args, **call_kwargs)
            except ReleaseError as error:
                if debug_enabled():
                    traceback.print_exc()
                sys.stdout.flush()
                raise Exit(f"error: {error.one_line()}", code=error.exit_code) from None
            except KeyboardInterrupt:
                raise Exit("interrupted", code=130) from None

        return task(guarded, **kwargs)

    if len(args) == 1 and callable(args[0]) and not kwargs:
        return decorate(args[0])
    return decorate
