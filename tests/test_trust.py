"""What root may run: nothing another user can change (core/trust.py). Real files, real
owners and modes: the tests run as root (chown), like the cluster tasks and CI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from build_scripts.core import trust
from build_scripts.core.errors import ReleaseError


@pytest.fixture
def tree(tmp_path):
    os.chmod(tmp_path, 0o755)
    program = tmp_path / "bin" / "kube-proxy"
    program.parent.mkdir(mode=0o755)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    return program


def test_a_root_owned_program_in_root_owned_folders_is_trusted(tree):
    assert trust.why_untrusted(tree) is None


def test_a_program_owned_by_another_user_is_refused(tree):
    os.chown(tree, 1000, 1000)
    assert trust.why_untrusted(tree) == f"{tree} is owned by uid 1000"


def test_a_folder_on_the_way_writable_by_its_group_is_refused(tree):
    tree.parent.chmod(0o775)
    assert trust.why_untrusted(tree) == f"{tree.parent} is writable by group 0"


def test_a_sticky_world_writable_folder_keeps_root_s_own_files_safe(tree):
    tree.parent.chmod(0o1777)
    assert trust.why_untrusted(tree) is None
    tree.chmod(0o777)  # but a world-writable file is not
    assert "writable by everyone" in trust.why_untrusted(tree)


def test_a_link_into_a_user_s_folder_is_refused(tree, tmp_path):
    users = tmp_path / "users"
    users.mkdir(mode=0o755)
    os.chown(users, 1000, 1000)
    target = users / "kubectl"
    target.write_text("#!/bin/sh\n")
    link = tree.parent / "kubectl"
    link.symlink_to(target)
    assert trust.why_untrusted(link) == f"{users} is owned by uid 1000"


def test_the_refusal_is_one_line_through_the_task_boundary(tree):
    os.chown(tree.parent, 1000, 1000)
    code = (
        "from pathlib import Path\n"
        "from build_scripts.core import trust\n"
        f"trust.require_root_owned([Path({str(tree)!r})], 'the cluster')\n"
    )
    with pytest.raises(ReleaseError) as caught:
        trust.require_root_owned([tree], "the cluster")
    line = caught.value.one_line()
    assert "\n" not in line and "owned by uid 1000" in line and "root" in line
    # Unprivileged, nothing is refused: no one is escalated.
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert done.returncode == 0, done.stderr
