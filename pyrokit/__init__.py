"""Shared plumbing: Pyro4 configuration, finding the name server, serving objects, processes."""
