"""Analysis: what a run is asked (job), what it says (events), how it runs (pipeline, feeder,
regions) and how frame scores become verdicts (aggregate, ensemble, verdicts). No Qt."""
