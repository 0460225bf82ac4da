"""Who the all-in-one's clients are, and the services that say so.

``auth`` chooses between noauth and Keystone; ``keystone`` runs a private
Keystone (served by ``keystone_server``); ``compute_api`` is the
read-only stand-in for the compute API's server lookups.
"""
