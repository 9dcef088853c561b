@fixture.docker
Feature: Deploying TraderAdmin to Kubernetes and verifying its health checks
  The plan's scenarios, run for real: our images, our manifests from deploy/, applied with
  `invoke deploy` to the local cluster, real kubelet probes against the real services.

  Background:
    Given the local cluster is up

  Scenario: Deploying Services to Kubernetes
    Given Docker images for all services are built and available
    And Kubernetes manifests in "deploy/" are finalized
    When the user applies the Kubernetes manifests to the target cluster
    Then all required Deployments, Services, and PVCs are created
    And all Pods eventually reach the "Running" state and pass their readiness probes
    And the backend answers "/readyz" with 200 on its ClusterIP
    And the orchestrator answers "/readyz" with 200 on its ClusterIP
    And the backend on its ClusterIP closes its API to requests without a token
    And the orchestrator's token reads the configuration but cannot change it
    And the orchestrator's pod mounts only its own token Secret

  Scenario: Verifying Health Checks in Kubernetes
    Given the TraderAdmin services are deployed and running in Kubernetes
    When Kubernetes checks the liveness and readiness probes for 30 seconds
    Then the probes consistently succeed for healthy pods
    When the backend is scaled to zero replicas
    Then the orchestrator pod is marked not ready and leaves its Service's endpoints within 60 seconds
    And a connection from the orchestrator pod to "backend.traderadmin.svc:8080" is refused at once
    And conntrack on the node shows no connection from the pod network to outside this machine
    When the backend is scaled back to one replica
    Then the orchestrator pod is ready again within 90 seconds
    When the backend process stops responding
    Then Kubernetes restarts the backend container within 120 seconds
    And the backend pod is ready again within 60 seconds

  Scenario: The orchestrator follows a backend rollout at once
    Given the TraderAdmin services are deployed and running in Kubernetes
    When the backend is rolled out again
    Then a new backend pod is ready within 120 seconds
    And the orchestrator pod is ready within 15 seconds of the new backend pod

  Scenario: Declining a deploy with --confirm changes nothing, not even the namespace
    Given Docker images for all services are built and available
    And the "traderadmin" namespace does not exist
    When on a terminal, "invoke deploy --environment local --confirm" is answered with "n"
    Then it exits with a non-zero status
    And the output contains "create the namespace traderadmin"
    And the output contains "create Secret traderadmin/"
    And the output contains "deploy not confirmed: nothing was applied"
    And the namespace "traderadmin" does not exist

  Scenario: A fresh deploy reaches all-Ready within 60 seconds
    Given Docker images for all services are built and available
    And the "traderadmin" namespace does not exist
    When the user applies the Kubernetes manifests to the target cluster
    Then the deploy took at most 60 seconds and every TraderAdmin pod is Running and Ready
