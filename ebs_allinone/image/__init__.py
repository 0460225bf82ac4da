"""The image service of the all-in-one: a private Glance.

``glance`` configures Glance (its own SQLite database, a file store under
the run's directory, keystonemiddleware against the private Keystone) and
runs it; ``glance_server`` runs inside that child process and serves
Glance's WSGI application.
"""
