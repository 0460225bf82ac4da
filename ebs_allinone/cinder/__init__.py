"""Cinder in the all-in-one: its configuration, its processes, a client.

``config`` and ``cluster_config`` write cinder.conf and api-paste.ini;
``processes`` runs Cinder as child processes; ``one_process`` and
``colocated`` run inside the single topology's child (API, scheduler and
volume services in one process); ``client`` is python-cinderclient with
waits. ``filters`` holds paste filters that run inside cinder-api.
"""
