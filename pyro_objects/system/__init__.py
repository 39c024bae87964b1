"""The whole system on one machine: start every process on free ports, demo it, stop it."""
