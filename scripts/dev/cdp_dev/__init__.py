"""Development tools of cdp, not installed with it: sample extracts (`cdp generate`),
identity scoring against their ground truth (`cdp score`) and the faults the
crash-and-resume tests inject at cdp's checkpoints."""
