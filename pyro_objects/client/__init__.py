"""The command-line client: one prompt for every remote feature, also one-shot and scripted."""
