"""python -m pyro_objects: the same as the `pyro-objects` command."""

from pyro_objects.command import main

if __name__ == "__main__":
    main()
