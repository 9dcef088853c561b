@fixture.docker
Feature: Container images of the backend and the orchestrator
  On a machine that cannot reach any container registry, a release engineer builds small,
  non-root images of the backend and the orchestrator from this checkout, sees them run locked
  down, and moves them on: as archives to an air-gapped site, or to a registry.

  Background:
    Given the images have been built with "invoke images.build"

  Scenario Outline: The <component> image runs as a numeric non-root user, is labelled and fits its budget
    Then the image "<component>" is configured to run as user "65532:65532"
    And the image "<component>" has a JSON-form entrypoint
    And the image "<component>" carries the OCI labels of this release
    And the image "<component>" is at most <budget> MB, and the build printed its size

    Examples:
      | component    | budget |
      | backend      | 15     |
      | orchestrator | 80     |

  Scenario: A second build with no source change starts no docker build
    When I time "invoke images.build"
    Then it exits with status 0
    And no docker build ran
    And it took less than 30 seconds

  Scenario: The backend runs read-only, without capabilities, as its own user
    Given a fresh volume for the backend's data
    When the "backend" image runs locked down with that volume at "/var/lib/traderadmin"
    Then "/healthz" answers 200 within 30 seconds
    And "/readyz" answers 200 within 10 seconds
    And its process runs as uid 65532 with no capabilities and no new privileges
    And its root file system is read-only

  Scenario: Without a writable volume the backend says it is not ready
    When the "backend" image runs locked down without a volume
    Then "/healthz" answers 200 within 30 seconds
    And "/readyz" answers 503 within 10 seconds

  Scenario: The orchestrator runs read-only, without capabilities, and gets ready against the backend
    Given a Docker network of its own
    And the backend runs locked down on that network as "backend" with the orchestrator token "scenario-token"
    When the "orchestrator" image runs locked down on that network with the backend "http://backend:8080" and the token "scenario-token"
    Then "/healthz" answers 200 within 30 seconds
    And "/readyz" answers 200 within 60 seconds
    And its process runs as uid 65532 with no capabilities and no new privileges
    And its root file system is read-only

  Scenario: A Dockerfile step that reaches for the network fails the build
    Given a web server on this host that a container on Docker's default network can reach
    When the engine builds this Dockerfile on the local build base:
      """
      ARG BASE
      FROM ${BASE}
      RUN python3 -c "import urllib.request; urllib.request.urlopen('{url}', timeout=5)"
      """
    Then the build fails, saying "Network is unreachable"

  Scenario: Saved archives carry both tags for air-gapped transfer
    When I run "invoke images.save"
    Then it exits with status 0
    And "images/backend.tar" in the release folder holds the backend image with its version and commit tags
    And "images/orchestrator.tar" in the release folder holds the orchestrator image with its version and commit tags

  @fixture.registry
  Scenario: Pushing to a registry and pulling back gives the same digest
    When I push the images to the local registry
    Then it exits with status 0
    And pulling "backend" back from the registry gives the digest that was pushed
    And pulling "orchestrator" back from the registry gives the digest that was pushed
