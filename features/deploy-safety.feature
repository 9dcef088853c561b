@fixture.docker
Feature: Deploys you can believe
  `invoke deploy` judges a rollout the way the Deployment controller does, rolls the whole
  release back when one of its Deployments fails, and keeps the data across undeploys. The
  namespace's NetworkPolicies are enforced by the local cluster's policy engine.

  Background:
    Given the local cluster is up
    And the current release is deployed

  Scenario: A release whose orchestrator crashes at start is refused and rolled back
    Given a release "9.9.9-crash" whose orchestrator exits 1 at start
    When the user deploys release "9.9.9-crash"
    Then the deploy fails within 90 seconds with one line naming "orchestrator", "CrashLoopBackOff" and "rolled back to"
    And every TraderAdmin Deployment is rolled out with the previous version
    And the orchestrator answers "/readyz" with 200 on its ClusterIP
    And the orchestrator reports the previous version

  Scenario: A release whose image cannot be found fails fast
    When the user deploys with the orchestrator image "traderadmin/orchestrator:never-imported"
    Then the deploy fails within 60 seconds with one line naming "orchestrator", "ErrImageNeverPull" and "rolled back to"
    And every TraderAdmin Deployment is rolled out with the previous version

  Scenario: Backup, wipe and restore give back the same configuration
    Given the configuration was changed through the backend's API
    When the user runs "invoke deploy.backup" into the scenario's directory
    And the release is undeployed with its data and deployed again
    Then the configuration is not the backed-up one
    When the user restores that backup with "invoke deploy.restore"
    Then the configuration has the backed-up ETag

  Scenario: The configuration survives undeploy and deploy
    Given the configuration was changed through the backend's API
    When the user runs "invoke deploy.undeploy"
    Then no TraderAdmin pod is left but the claim "backend-data" and the API token Secret are
    When the user applies the Kubernetes manifests to the target cluster
    Then the configuration has the ETag it had before the undeploy

  Scenario: Only the orchestrator reaches the backend
    Given a namespace of its own
    And the image "traderadmin.local/echo:scenario" built with Docker and imported into the cluster
    And a client pod running that image
    Then the client pod's request to the backend is refused at once, by its Service and its pod address
    And a connection from the orchestrator pod to the backend succeeds
    And the orchestrator answers "/readyz" with 200 on its ClusterIP

  Scenario: The local manifests pass the schema check and a server-side dry run
    When I run "invoke deploy.validate --environment local"
    Then it exits with status 0
    And the output contains "every object matches the Kubernetes 1.34 schema"
    And the output contains "the API server admits every object (server-side dry run)"

  Scenario Outline: The <environment> pods are admitted under Pod Security "restricted"
    When I run "invoke deploy.validate --environment <environment> --offline"
    Then it exits with status 0
    And the output contains "every object matches the Kubernetes 1.34 schema"
    Given a namespace of its own
    When the pod of each Deployment in the "<environment>" manifests is created there by a server-side dry run
    Then the API server admits every one of them

    Examples:
      | environment |
      | local       |
      | production  |
