Feature: Desktop updates users can trust
  The installed desktop app reads a signed update feed, replaces its own binary with the version
  offered, and undoes an update whose first start fails. A feed whose manifest, file or
  signature was altered is refused, and nothing on the machine changes.

  Background:
    Given three desktop versions built with a test update key, the third made to fail at start
    And an update feed signed with that key, served on 127.0.0.1

  @fixture.xvfb
  Scenario: An installed version updates itself to the version the feed offers
    Given version "0.9.0-test.1" is installed in a temporary folder
    And versions "0.9.0-test.1" and "0.9.0-test.2" are published in the feed
    When I run the installed app with "--update"
    Then it exits with status 0
    And the installed app reports version "0.9.0-test.2"
    And the previous binary is kept beside it as "TraderAdmin.previous"

  @fixture.xvfb
  Scenario: A version that fails to start is undone and not offered again
    Given version "0.9.0-test.2" is installed in a temporary folder
    And versions "0.9.0-test.2" and "0.9.0-test.3" are published in the feed
    When I run the installed app with "--update"
    Then it exits with status 5
    And the output contains "Update to 0.9.0-test.3 failed to start and was undone"
    And the update was undone within 120 seconds
    And the installed app reports version "0.9.0-test.2"
    When I run the installed app with "--check-update"
    Then it exits with status 3
    And the output contains "failed to start on this machine"

  Scenario Outline: A feed whose <part> was altered is refused and nothing changes
    Given version "0.9.0-test.1" is installed in a temporary folder
    And versions "0.9.0-test.1" and "0.9.0-test.2" are published in the feed
    And the feed's <part> is altered after signing
    When I run the installed app with "--update"
    Then it exits with status 1
    And the installed folder is exactly as it was

    Examples:
      | part      |
      | manifest  |
      | file      |
      | signature |
