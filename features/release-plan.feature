Feature: A release does only the work its changed inputs need
  A release engineer runs `invoke release` again and again. A step whose inputs did not change
  says "up to date" and does nothing; `--dry-run` shows the plan, with the reason each step
  would run, and runs nothing; the checksums always describe the whole release folder.

  Background:
    Given a release output folder of the scenario's own

  Scenario: A second release with nothing changed is up to date
    When I run "invoke release --only manifests --no-bootstrap"
    Then it exits with status 0
    And the output contains "▶ manifests"
    When I run "invoke release --only manifests --no-bootstrap"
    Then it exits with status 0
    And the output contains "✓ manifests: up to date"
    And the output contains "checksums: up to date"
    And "sha256sum -c SHA256SUMS" passes in the release folder

  Scenario: The plan names what changed and nothing runs
    Given "invoke release --only manifests --no-bootstrap" has run
    And "deploy/local.yaml" is removed from the release folder
    When I run "invoke release --only manifests --dry-run"
    Then it exits with status 0
    And the output contains "manifests          would run: deploy/local.yaml is missing"
    And the output contains "checksums          would run: after manifests"
    And "deploy/local.yaml" is still missing from the release folder
