"""The test suite's own tooling: where a validate run's time went, and the firewall soak."""
