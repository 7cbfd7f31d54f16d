"""`make bench`: speed and memory of the portal, as ratios measured in one run."""
