Feature: A release report to look at in a browser
  After every `invoke release` a release engineer opens reports/release-<version>.html: one page
  that loads nothing from elsewhere, with the run's timeline, every artifact with its size and
  SHA-256, and the trends of this machine's release history.

  Background:
    Given a release output folder of the scenario's own
    And "invoke release --only backend --no-bootstrap" has run
    And "invoke release --only backend --no-bootstrap" has run

  @fixture.chromium
  Scenario: The release report opens in Chromium, loads nothing and shows the release
    Then the release's output ends with the link to its report
    When I open the release report in Chromium
    Then the page loaded with no console error and no request outside the file
    And every artifact of SHA256SUMS is in the report's artifact table with the same digest
    And the timeline has one bar per step of the run's plan
    And the release time plot has one point per entry of the history
    And an accessibility check with axe finds no serious violation
    And a screenshot of the report is saved under reports/screenshots/
