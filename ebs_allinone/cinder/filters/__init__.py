"""Paste filters of the all-in-one that run inside cinder-api."""
