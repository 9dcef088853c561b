"""The engine's own code that a release step runs, derived from what its function uses.

Hand-listed step sources drift when a module moves (the SHA256SUMS code moved from bundle/ to
core/sums.py and the bundle step, which lists build_scripts/bundle, no longer saw it change).
So a step's code inputs are computed: the modules its function refers to (through the
wiring module's globals and closures, into helper functions of the wiring module itself), and
every build_scripts module those import, transitively, with the packages on the way (their
__init__ runs too). A module that reads data files at release time declares them once, beside
the code that reads them, as a module-level tuple `RELEASE_READS` of repository-relative paths;
they become inputs of every step that reaches the module.

The wiring module's own helpers (the closures in steps.py) are not whole files: a step takes
the source text of the helpers it reaches as one parameter, so editing one step's wiring does
not rerun every step.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import types
from collections.abc import Callable, Iterable
from pathlib import Path

from build_scripts.core import paths

PACKAGE = "build_scripts"
READS_NAME = "RELEASE_READS"


def module_file(module: str) -> Path | None:
    """The file of a build_scripts module or package (None if there is none)."""
    relative = Path(*module.split("."))
    for candidate in (relative.with_suffix(".py"), relative / "__init__.py"):
        path = paths.repo_root() / candidate
        if path.is_file():
            return path
    return None


def _tree(module: str) -> ast.Module | None:
    path = module_file(module)
    return ast.parse(path.read_text(encoding="utf-8")) if path else None


@functools.cache
def module_imports(module: str) -> frozenset[str]:
    """The build_scripts modules `module` imports (anywhere in it, also inside functions)."""
    tree = _tree(module)
    if tree is None:
        return frozenset()
    is_package = module_file(module).name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith(PACKAGE)}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*parts, *([base] if base else [])])
            if not base.startswith(PACKAGE):
                continue
            found.add(base)
            # `from build_scripts.core import cmd`: cmd is a module of its own.
            found |= {f"{base}.{a.name}" for a in node.names if module_file(f"{base}.{a.name}")}
    return frozenset(name for name in found if module_file(name))


def with_packages(modules: Iterable[str]) -> set[str]:
    """The modules and every package above them (importing a.b.c runs a and a.b first)."""
    out = set()
    for module in modules:
        parts = module.split(".")
        out |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {m for m in out if module_file(m)}


def reachable(modules: Iterable[str]) -> set[str]:
    """`modules` and every build_scripts module they import, transitively."""
    seen: set[str] = set()
    frontier = with_packages(modules)
    while frontier:
        seen |= frontier
        frontier = with_packages(set().union(*(module_imports(m) for m in frontier))) - seen
    return seen


@functools.cache
def declared_reads(module: str) -> tuple[str, ...]:
    """The module's RELEASE_READS (repository-relative data files and folders), or ()."""
    tree = _tree(module)
    for node in tree.body if tree else ():
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == READS_NAME for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    return ()


def _code_objects(code: types.CodeType) -> Iterable[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


def referred(
    function: Callable, wiring: str, *, skip: frozenset[str] = frozenset()
) -> tuple[set[str], list]:
    """(modules, wiring helpers) a step's function refers to.

    A function of a wing's module: that module. A function of the `wiring` module (steps.py's
    closures and helpers): the build_scripts modules of the globals and closure values it
    uses, and the wiring functions it calls, followed into and returned so that their source is
    part of the fingerprint. Names in `skip` are not followed (the graph itself: the bundle
    step lists the step names).
    """
    if function.__module__ != wiring:
        return {function.__module__}, []
    home = wiring
    modules: set[str] = set()
    helpers: list = []
    pending = [function]
    while pending:
        current = pending.pop()
        if current in helpers:
            continue
        helpers.append(current)
        values = [
            current.__globals__.get(name)
            for code in _code_objects(current.__code__)
            for name in code.co_names
            if name not in skip
        ]
        values += [cell.cell_contents for cell in current.__closure__ or ()]
        for value in values:
            if isinstance(value, types.ModuleType):
                name = value.__name__
            elif callable(value) and getattr(value, "__module__", None):
                name = value.__module__
                if name == home and isinstance(value, types.FunctionType):
                    pending.append(value)
                    continue
            else:
                continue
            if name.startswith(PACKAGE) and name != home:
                modules.add(name)
    return modules, helpers


def code_sources(
    function: Callable, wiring: str, *, skip: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """Repository-relative files: every module the step's function reaches, and what they
    declare they read."""
    modules, _ = referred(function, wiring, skip=skip)
    root = paths.repo_root()
    files = set()
    for module in reachable(modules):
        files.add(module_file(module).relative_to(root).as_posix())
        files |= set(declared_reads(module))
    return tuple(sorted(files))


def wiring_digest(function: Callable, wiring: str, *, skip: frozenset[str] = frozenset()) -> str:
    """A digest of the source of the wiring helpers the step's function runs ("" if none)."""
    _, helpers = referred(function, wiring, skip=skip)
    if not helpers:
        return ""
    digest = hashlib.sha256()
    for helper in sorted(helpers, key=lambda f: f.__code__.co_firstlineno):
        digest.update(inspect.getsource(helper).encode())
    return digest.hexdigest()[:16]
