"""The chain ring: nodes that pass a message around a ring found through the name server."""
