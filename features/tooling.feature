Feature: The release tooling says clearly what is wrong and how to fix it
  A developer on a new machine, or anyone troubleshooting one task, gets one clear line
  naming the problem and the fix, a non-zero exit code, and no half-written artifacts.

  Background:
    Given the machine has been bootstrapped

  Scenario: Doctor finds every tool on a bootstrapped machine
    When I run "invoke doctor"
    Then it exits with status 0
    And the output lists "makensis" as "ok"
    And the output lists "wine64" as "ok"

  Scenario: Doctor names a missing tool and the command that installs it
    Given a PATH on which "makensis" is missing
    When I run "invoke doctor"
    Then it exits with a non-zero status
    And the output lists "makensis" as "MISSING"
    And the output contains "apt-get install nsis"

  Scenario: Doctor checks only the tools asked for, and fails on a missing one
    Given a PATH on which "git" is missing
    When I run "invoke doctor --tool git"
    Then it exits with status 3
    And stderr is one line that contains "git"

  Scenario Outline: An invalid version is rejected before anything is built
    Given a release output folder of the scenario's own
    And the release output folder as it is now
    When I run "invoke release --version <version>"
    Then it exits with status 2
    And stderr is one line that contains "not SemVer"
    And the output shows no traceback
    And no release folder exists for version "<version>"
    And the release output folder is unchanged

    Examples:
      | version   |
      | 1.2       |
      | 01.2.3    |
      | latest    |
      | 1.2.3-    |

  Scenario: A valid override is the version the release uses
    When I run "invoke version --version 2.4.6-rc.1"
    Then it exits with status 0
    And the output contains "2.4.6-rc.1"
