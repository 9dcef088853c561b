@fixture.docker
Feature: One signed bundle for an air-gapped site
  A site without network receives one file. Its operator checks it with standard tools, or with
  `invoke bundle.verify` with the network cut off, and deploys from the bundle alone: the images
  go from the bundle into the cluster's containerd, or through the site's registry, pinned by
  digest. A changed byte anywhere is found, and the file that does not match is named.

  Background:
    Given a throwaway OpenPGP release key
    And the bundle of release "0.7.0-bundle.1" made with "invoke bundle" and that key

  Scenario: The bundle verifies with the network cut off
    When I run "invoke bundle.verify" on the bundle with the public key, without a network
    Then it exits with status 0
    And the output contains "✓ signature: "
    And the output contains "match SHA256SUMS"
    And the release folder's SHA256SUMS and release.json cover the bundle and every other file

  Scenario: DEPLOYMENT.md's verification with standard tools works as written
    When I run the bundle verification commands of DEPLOYMENT.md on a copy of the bundle
    Then they exit with status 0
    And sha256sum printed "OK" for every file of the bundle

  Scenario: One flipped byte of the installer fails verification, naming the installer
    Given a copy of the bundle with one byte of the installer flipped
    When I run "invoke bundle.verify" on that copy with the public key, without a network
    Then it exits with status 5
    And stderr is one line that contains "_Setup_v0.7.0-bundle.1.exe does not match SHA256SUMS"
    When I run the bundle verification commands of DEPLOYMENT.md on that copy
    Then they exit with a non-zero status, sha256sum naming the installer "FAILED"

  Scenario Outline: Each kind of tampering fails verification, naming the file: <kind>
    Given a copy of the bundle with one byte of <kind> flipped
    When I run "invoke bundle.verify" on that copy with the public key, without a network
    Then it exits with status 5
    And stderr is one line that matches "<named>"

    Examples:
      | kind                                   | named                                                              |
      | an image layer                         | images/backend/blobs/sha256/[0-9a-f]{64} does not match SHA256SUMS |
      | a pinned digest in the local manifests | deploy/local\.yaml does not match SHA256SUMS                       |
      | a SHA256SUMS line                      | SHA256SUMS does not match its signature SHA256SUMS\.asc            |
      | the signature                          | SHA256SUMS\.asc is not a valid signature of SHA256SUMS             |

  Scenario: A bundle made without a key says unsigned and is refused unless allowed
    When I run "invoke bundle --version 0.7.0-bundle.1" with no signing key
    Then it exits with status 0
    And the output contains "air-gapped bundle, 2 images, unsigned"
    When I run "invoke bundle.verify" on the bundle with the public key, without a network
    Then it exits with status 5
    And stderr is one line that contains "the bundle is unsigned (no SHA256SUMS.asc)"
    When I run "invoke bundle.verify" on the bundle allowing it unsigned, without a network
    Then it exits with status 0
    And the output contains "verified (0.7.0-bundle.1, unsigned)"

  Scenario: Deploying from the bundle alone to the local cluster
    Given the local cluster is up
    And the images of release "0.7.0-bundle.1" are removed from Docker
    And the bundle's images are removed from the local cluster's containerd
    When I run "invoke deploy --bundle" with the public key and no Docker engine to talk to
    Then it exits with status 0
    And all Pods eventually reach the "Running" state and pass their readiness probes
    And every TraderAdmin Deployment runs the bundle's image by its digest

  @fixture.registry
  Scenario: Deploying from the bundle through a local registry, pinned by digest
    Given the local cluster is up
    When I run "invoke deploy --bundle" with the public key through the local registry
    Then it exits with status 0
    And the local registry holds each image of the bundle under the bundle's digest
    And every TraderAdmin Deployment runs the bundle's image from the local registry by digest
    And all Pods eventually reach the "Running" state and pass their readiness probes
    And the cluster's containerd pulled each image from the local registry
