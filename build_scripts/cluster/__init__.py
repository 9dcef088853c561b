"""The local Kubernetes cluster: binaries, host preparation, certificates, configuration,
component processes, probes, up/down/status."""
