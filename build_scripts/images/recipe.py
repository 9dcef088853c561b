"""The base-image recipe (docker/base/recipe.toml): suite, packages, keep/drop rules, the user."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from build_scripts.core import paths
from build_scripts.core.errors import ConfigError

# Bump when the derivation (rootfs.py) changes what goes into an image: the tags change with it.
DERIVATION = "2"  # 2: runtime bases carry var/lib/dpkg/status.d
# What the release reads here (release/code_inputs.py): the recipe of the base images.
RELEASE_READS = ("docker/base",)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


KINDS = ("build", "python", "static")


def recipe_path() -> Path:
    return paths.repo_root() / "docker" / "base" / "recipe.toml"


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class Recipe:
    text: str
    suite: str
    variant: str
    include: tuple[str, ...]
    user: User
    build_drop: tuple[str, ...]
    python_interpreter: str
    python_stdlib: str
    python_keep: tuple[str, ...]
    python_drop: tuple[str, ...]
    static_keep: tuple[str, ...]
    static_drop: tuple[str, ...]

    @property
    def rootfs_key(self) -> str:
        """What the debootstrap root depends on (the mirror is not part of it)."""
        debian = {"suite": self.suite, "variant": self.variant, "include": sorted(self.include)}
        return _digest(json.dumps(debian, sort_keys=True))[:16]

    @property
    def key(self) -> str:
        """The tag of the derived images: the whole recipe and the derivation version."""
        return _digest(self.text + "\0" + DERIVATION)[:12]


def parse_recipe(text: str, source: str = "recipe") -> Recipe:
    try:
        data = tomllib.loads(text)
        debian, user, python, static = data["debian"], data["user"], data["python"], data["static"]
        return Recipe(
            text=text,
            suite=debian["suite"],
            variant=debian.get("variant", "minbase"),
            include=tuple(debian.get("include", ())),
            user=User(user["name"], int(user["uid"]), int(user["gid"]), user["home"].strip("/")),
            build_drop=tuple(data.get("build", {}).get("drop", ())),
            python_interpreter=python["interpreter"],
            python_stdlib=python["stdlib"],
            python_keep=tuple(python.get("keep", ())),
            python_drop=tuple(python.get("drop", ())),
            static_keep=tuple(static.get("keep", ())),
            static_drop=tuple(static.get("drop", ())),
        )
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{source} is not a valid base-image recipe: {exc}",
            "compare it with docker/base/recipe.toml in git",
        ) from exc


def load_recipe(path: Path | None = None) -> Recipe:
    source = path or recipe_path()
    try:
        return parse_recipe(source.read_text(encoding="utf-8"), str(source))
    except FileNotFoundError as exc:
        raise ConfigError(f"{source} is missing", "restore it from git") from exc
