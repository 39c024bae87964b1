"""Pyro objects: remote objects in Python on Pyro4 — the plumbing, the client, the chat rooms,
the web console and the local system, under one import name."""

__version__ = "0.2.0"
