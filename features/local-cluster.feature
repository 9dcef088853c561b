Feature: A local Kubernetes cluster for validating deployments
  As a release engineer I start a real single-node Kubernetes cluster on this machine, built
  from upstream components, so that deployments run real pods that pass real probes before a
  release goes anywhere else.

  Background:
    Given the local cluster is up

  Scenario: The node is Ready and kubectl reaches it through the traderadmin-local context
    When I run "kubectl --context traderadmin-local get nodes"
    Then it exits with status 0
    And the output contains "Ready"
    And the node is Ready
    And every component of the cluster is running
    And the rules that keep pod traffic on this machine are installed
    And pods ran under the cluster's own cgroup root

  Scenario: etcd refuses clients without a certificate and the API server refuses anonymous ones
    When I run "etcdctl --endpoints http://127.0.0.1:2379 get / --prefix --keys-only --dial-timeout=3s --command-timeout=5s"
    Then it exits with a non-zero status
    And the output lists no key
    When I run etcdctl against "https://127.0.0.1:2379" without a client certificate
    Then it exits with a non-zero status
    And the output lists no key
    When I run etcdctl against "https://127.0.0.1:2379" with the health check's client certificate
    Then it exits with status 0
    And the output contains "/registry/"
    And the API server answers an anonymous request on the node IP with 401
    And the API server accepts no connection on any other local address

  Scenario: The cluster listens only where README's table says, and nothing else reaches its loopback ports
    Then every socket the cluster listens on beyond the loopback address is in README's table
    And from a network namespace of its own, only ports open beyond loopback answer

  Scenario: Root refuses to run a cluster program that another user could replace
    Given the cluster program "kube-proxy" is owned by another user
    When I run "invoke cluster.up"
    Then it exits with a non-zero status
    And stderr is one line that contains "is owned by uid 1000"
    And the output shows no traceback
    And every component of the cluster is running

  Scenario: Starting the cluster again changes nothing
    When I run "invoke cluster.up"
    Then it exits with status 0
    And the output contains "started: nothing"

  Scenario: A Deployment of a locally built image becomes Available with its readiness probe
    Given a namespace of its own
    And the image "traderadmin.local/echo:scenario" built with Docker and imported into the cluster
    When I deploy "echo" from that image with a readiness probe on "/healthz"
    Then the Deployment "echo" becomes Available within 120 seconds
    And its pod is Running with the readiness probe on "/healthz" passing

  Scenario: Pod Security "restricted" rejects a pod that runs as root
    Given a namespace of its own
    And the image "traderadmin.local/echo:scenario" built with Docker and imported into the cluster
    When I create a pod that runs as root without a security context
    Then the API server rejects it for violating the Pod Security level "restricted:latest"

  Scenario: A Service answers on its ClusterIP and its DNS names from another pod
    Given a namespace of its own
    And the image "traderadmin.local/echo:scenario" built with Docker and imported into the cluster
    And "echo" is deployed from that image with a readiness probe on "/healthz"
    And a client pod running that image
    Then the Deployment "echo" becomes Available within 120 seconds
    And the Service "echo" answers on its ClusterIP from the client pod
    And the Service answers on its DNS name "echo.{namespace}.svc.cluster.local" from the client pod
    And the Service answers on its DNS name "echo" from the client pod

  Scenario: A claim of the default StorageClass binds and keeps its data when the pod goes
    Given a namespace of its own
    And the image "traderadmin.local/echo:scenario" built with Docker and imported into the cluster
    When I claim "1Gi" of storage as "data" without naming a StorageClass
    Then the claim "data" is Bound within 60 seconds
    When a pod writes "kept across pods" to the claim "data" and is deleted
    Then a new pod mounting the claim "data" reads "kept across pods"

  Scenario: A crashed component shows in the status with the end of its log, and up restarts it
    Given the cluster component "kube-scheduler" has crashed
    When I run "invoke cluster.status"
    Then it exits with a non-zero status
    And the output lists "kube-scheduler" as "crashed"
    And the output shows the last line of the "kube-scheduler" log
    When I run "invoke cluster.up"
    Then it exits with status 0
    And every component of the cluster is running

  Scenario: Pod traffic stays on this machine: a Service without endpoints and another host refuse
    Given a namespace of its own
    And the image "traderadmin.local/echo:scenario" built with Docker and imported into the cluster
    And a client pod running that image
    And a Service "nobody" whose selector matches no pod
    And a host outside the pod network, listening on port 8080
    Then the client pod's request to the Service "nobody" is refused at once
    And the client pod's request to that host is refused at once
    And this machine's request to a Service address no Service has is refused at once
    And conntrack on the node shows no connection from the pod network to outside this machine

  @fixture.docker
  Scenario: Docker's, kube-proxy's and the CNI plugin's rules survive the NetworkPolicy engine's syncs
    When pods and Docker networks are created and removed side by side for 2 rounds
    Then the NetworkPolicy engine wrote its table back during every round
    And after every round each owner's firewall rules are all present
    And the NetworkPolicy engine's rules are in a table no other program writes to

  @fixture.docker
  Scenario: The firewall check sees a rule that another program removed
    Given a Docker network whose rule for traffic inside it was deleted by hand
    Then the firewall check names that network's rule as missing

  Scenario: The cluster goes down clean, and leaves another cluster's pods and rules alone
    Given a process of another cluster runs in the pod cgroup "/kubepods.slice"
    And a rule for another cluster's pod in the CNI plugin's chain
    When I run "invoke cluster.down"
    Then it exits with status 0
    And no process of the local cluster is left
    And the other cluster's process still runs
    And the other cluster's chains and its rule in the CNI plugin's chain are still there
    And nothing is mounted under the cluster's state directory
    And the rules that keep pod traffic on this machine are gone
    And no iptables chain or ipset of the NetworkPolicy engine is left

  Scenario: Down with --wipe also removes the cluster's state, and only what the cluster made
    Given the local cluster is stopped
    And a process of another cluster runs in the pod cgroup "/kubepods.slice"
    And another cluster's kube-proxy chains and a rule for its pod in the CNI plugin's chain
    When I run "invoke cluster.down --wipe"
    Then it exits with status 0
    And no process of the local cluster is left
    And the cluster's state directory is gone
    And nothing of the local cluster's own cgroup root is left
    And the user's kubeconfig has no "traderadmin-local" context
    And the other cluster's process still runs
    And the other cluster's chains and its rule in the CNI plugin's chain are still there
    When I run "invoke cluster.up"
    Then it exits with a non-zero status
    And the output contains "another Kubernetes runs on this machine"
    And no process of the local cluster is left
