"""The greeting object of Pyro4's tutorial, registered as `server`."""
