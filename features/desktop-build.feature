Feature: Building Production Application Package (Wails)
  A release builds the desktop app with `wails build` for Linux and, cross-compiled, for Windows.
  Each binary carries the release version, is checked before it lands in dist/, and starts on
  its platform. The source tree is left exactly as it was.

  Background:
    Given the machine has been bootstrapped

  @fixture.xvfb @fixture.wine_prefix
  Scenario: Building Production Application Package (Wails)
    Given the TraderAdmin source code is finalized
    When the `wails build` command is executed for Windows
    Then a `TraderAdmin.exe` is created in the build output directory
    And the executable runs successfully on a Windows test environment
    And the desktop source tree is unchanged

  Scenario: The Linux build prints its version and opens a real window
    Given the TraderAdmin source code is finalized
    When I run "invoke desktop.build --platform linux/amd64"
    Then it exits with status 0
    And the Linux build prints the release version with --version
    When I run "invoke desktop.smoke"
    Then it exits with status 0
    And a screenshot of the TraderAdmin window is saved under reports/

  Scenario: A macOS build on Linux stops at once and says why
    Given a release output folder of the scenario's own
    And the release output folder as it is now
    When I run "invoke desktop.build --platform linux/amd64,darwin/arm64"
    Then it exits with status 2
    And stderr is one line that contains "must run on macOS"
    And the output shows no traceback
    And the release output folder is unchanged
