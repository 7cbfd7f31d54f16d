"""Development tools shipped with the project: the dev identity provider, the FBS
simulator and their shared demo data. Used by `make run` and the tests; the
portal talks to them over real HTTP through its production code path."""
