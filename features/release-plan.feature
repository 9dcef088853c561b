Feature: A release does only the work its changed inputs need
  A release engineer runs `invoke release` again and again. A step whose inputs did not change
  says "up to date" and does nothing; `--dry-run` shows the plan, with the reason each step
  would run, and runs nothing; the checksums always describe the whole release folder.

  Background:
    Given a release output folder of the scenario's own

  Scenario: A second release with nothing changed is up to date
    When I run "invoke release --only backend --no-bootstrap"
    Then it exits with status 0
    And the output contains "▶ backend"
    When I run "invoke release --only backend --no-bootstrap"
    Then it exits with status 0
    And the output contains "✓ backend: up to date"
    And the output contains "checksums: up to date"
    And "sha256sum -c SHA256SUMS" passes in the release folder

  Scenario: The plan names what changed and nothing runs
    Given "invoke release --only backend --no-bootstrap" has run
    And "backend/traderadmin-backend-linux-amd64" is removed from the release folder
    When I run "invoke release --only backend --dry-run"
    Then it exits with status 0
    And the output contains "backend                  would run: backend/traderadmin-backend-linux-amd64 is missing"
    And the output contains "checksums                would run: after backend"
    And "backend/traderadmin-backend-linux-amd64" is still missing from the release folder

  Scenario: Rendering the deploy manifests leaves the release folder as its checksums describe it
    Given "invoke release --only backend --no-bootstrap" has run
    When I run "invoke deploy.render --environment local"
    Then it exits with status 0
    And the file it names is outside the release folder
    And "sha256sum -c SHA256SUMS" passes in the release folder
    And SHA256SUMS lists every file in the release folder
