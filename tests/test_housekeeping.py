from build_scripts.release.housekeeping import old_snapshots


def test_keeps_the_newest_snapshots_the_current_one_and_every_release():
    versions = [
        ("0.7.0-dev.ga", 1.0),
        ("0.7.0-dev.gb", 2.0),
        ("0.7.0-dev.gc", 3.0),
        ("0.7.0-dev.gd", 4.0),
        ("0.6.0", 0.5),
        ("not-a-version", 0.1),
    ]
    assert old_snapshots(versions, current="0.7.0-dev.ga", keep=2) == ["0.7.0-dev.gb"]
    assert sorted(old_snapshots(versions, current="0.7.0-dev.gd", keep=0)) == [
        "0.7.0-dev.ga",
        "0.7.0-dev.gb",
        "0.7.0-dev.gc",
    ]
