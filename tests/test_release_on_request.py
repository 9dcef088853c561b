"""Steps run only on request (as the bundle): left out of a plain release, and their files
marked stale, never silently passed off as current, once what they were made from changed."""

import json
import subprocess


def _sums_pass(folder):
    done = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True
    )
    return done.returncode == 0


def _manifest(world):
    return json.loads((world.release.dist_dir / "release.json").read_text())


def test_a_plain_release_leaves_out_a_step_run_on_request(world):
    world.run()
    assert sorted(world.started()) == ["gen", "other", "pack"]
    assert not (world.release.dist_dir / "ship.txt").exists()
    world.run(only=["ship"])
    assert world.started() == ["ship"]
    assert (world.release.dist_dir / "ship.txt").read_text() == "one\n"


def test_a_changed_source_reruns_only_the_default_steps_it_feeds(world, capsys):
    world.run(only=["ship", "other"])
    (world.repo / "src" / "gen.txt").write_text("two\n")
    capsys.readouterr()
    world.run(dry_run=True)
    plan = capsys.readouterr().out
    would_run = [line.split()[0] for line in plan.splitlines() if "would run:" in line]
    assert would_run == ["gen", "pack", "checksums"]
    assert "ship                     left out, stale: made before pack ran" in plan
    result = world.run()
    assert sorted(world.started()) == ["gen", "pack"]
    assert "ship" not in result.outcome.status


def test_the_stale_file_stays_and_the_folder_says_it_is_stale(world, capsys):
    world.run(only=["ship", "other"])
    shipped = (world.release.dist_dir / "ship.txt").read_bytes()
    (world.repo / "src" / "gen.txt").write_text("two\n")
    capsys.readouterr()
    result = world.run()
    out = capsys.readouterr().out
    # Kept as it was (nothing deleted behind the user's back), and summed: sha256sum -c passes.
    assert (world.release.dist_dir / "ship.txt").read_bytes() == shipped
    assert _sums_pass(world.release.dist_dir)
    artifacts = {a["path"]: a for a in _manifest(world)["artifacts"]}
    assert artifacts["ship.txt"]["stale"] == "pack.txt (from pack) changed"
    assert "stale" not in artifacts["pack.txt"]
    assert [e.stale for e in result.entries if e.step == "ship"] == ["pack.txt (from pack) changed"]
    # After the run, the line names what really changed (the plan could only say "made before").
    assert "ship                     left out, stale: pack.txt (from pack) changed" in out
    assert "--only ship` remakes it" in out
    # Staleness is a steady state: the next run finds the folder described, writes nothing.
    again = world.run()
    assert world.started() == [] and not again.sums_written


def test_running_the_step_again_clears_the_mark(world):
    world.run(only=["ship"])
    (world.repo / "src" / "gen.txt").write_text("two\n")
    world.run()
    world.run(only=["ship"])
    assert world.started() == ["ship"]
    assert (world.release.dist_dir / "ship.txt").read_text() == "two\n"
    assert all("stale" not in a for a in _manifest(world)["artifacts"])
    assert _sums_pass(world.release.dist_dir)
