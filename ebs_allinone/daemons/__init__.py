"""Child processes and the private servers the all-in-one runs.

``process`` starts, watches and stops a child (and the emulator);
``process_groups`` handles a service with the workers it forks;
``mariadb``, ``rabbitmq`` and ``etcd`` are private servers of the cluster
topology on free loopback ``ports``.
"""
