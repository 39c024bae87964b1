"""Chat rooms: publish/subscribe over Pyro4 callbacks."""
