"""The release graph: steps with declared inputs and outputs, the summary, bench and clean-up."""
