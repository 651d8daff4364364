"""Remotes: publish a store's `main`, and sync with what others published.

`sync` pushes, fetches into a quarantine, verifies what came, and combines the two
histories. It imports verification, publishing (the site branches it pushes) and storage.
"""
