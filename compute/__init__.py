"""Compute objects: checked arithmetic, a safe expression evaluator and the Leibniz π kernel."""
