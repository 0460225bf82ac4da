"""python-cinderclient against the all-in-one Cinder (noauth), and waits."""

import time

from cinderclient import client as cinder_client
from cinderclient.contrib import noauth
from cinderclient import exceptions as cinder_exc
from keystoneauth1 import session as ks_session

from ebs_allinone.cinder import config

WAIT_TIMEOUT = 120
# Multi-attach needs this volume API microversion.
MULTIATTACH_VERSION = '3.50'


class WaitTimeout(Exception):
    pass


def noauth_session(url, user_id=config.USER_ID,
                   project_id=config.PROJECT_ID):
    """A session for a noauth Cinder; ``url`` is the API root (``.../v3``).

    The endpoint is ``url/<project id>``, the token ``user:project``
    (what ``cinder --os-auth-type noauth`` sends).
    """
    plugin = noauth.CinderNoAuthPlugin(user_id, project_id=project_id,
                                       endpoint=url)
    return ks_session.Session(auth=plugin)


def client(url, version, user_id=config.USER_ID):
    """A cinderclient ``Client`` at volume API microversion ``version``."""
    return session_client(noauth_session(url, user_id), version)


def session_client(session, version, endpoint_override=None):
    """A cinderclient ``Client`` of a keystoneauth session.

    :param endpoint_override: the volume endpoint; default the one of
        the session's catalog (with Keystone).
    """
    return cinder_client.Client(version, session=session,
                                endpoint_override=endpoint_override)


def volume_endpoint(url, project_id=config.PROJECT_ID):
    return '%s/%s' % (url, project_id)


def wait_for(check, what, timeout=WAIT_TIMEOUT, progress=None,
             interval=0.1, watch=None):
    """Call ``check()`` until it returns something true; return that.

    :param progress: called with the seconds waited so far.
    :param watch: called before each check; raises to stop waiting (a
        service the wait depends on has exited).
    :raises WaitTimeout: after ``timeout`` seconds.
    """
    start = time.monotonic()
    while True:
        if watch is not None:
            watch()
        result = check()
        if result:
            return result
        waited = time.monotonic() - start
        if waited > timeout:
            raise WaitTimeout('%s: not done after %d s' % (what, timeout))
        if progress is not None:
            progress(waited)
        time.sleep(interval)


def wait_for_status(manager, resource_id, statuses, timeout=WAIT_TIMEOUT,
                    progress=None):
    """Wait until a volume/snapshot is in one of ``statuses``.

    :raises WaitTimeout: too long, or the resource went to an error
        status (the message says which).
    """
    kind = manager.resource_class.__name__.lower()

    def check():
        resource = manager.get(resource_id)
        if resource.status in statuses:
            return resource
        if resource.status.startswith('error'):
            raise WaitTimeout('%s %s went to %s%s' % (
                kind, resource_id, resource.status,
                user_messages(manager.api, resource_id)))
        return None
    return wait_for(check, '%s %s to become %s' % (
        kind, resource_id, ' or '.join(statuses)), timeout, progress)


def user_messages(cinder, resource_id):
    """Cinder's user messages about a resource, as ': msg; msg'."""
    try:
        found = [m.user_message for m in cinder.messages.list()
                 if getattr(m, 'resource_uuid', None) == resource_id]
    except cinder_exc.ClientException:
        return ''
    return (': ' + '; '.join(found)) if found else ''


def wait_for_deleted(manager, resource_id, timeout=WAIT_TIMEOUT,
                     progress=None):
    kind = manager.resource_class.__name__.lower()

    def check():
        try:
            resource = manager.get(resource_id)
        except cinder_exc.NotFound:
            return True
        if resource.status.startswith('error'):
            raise WaitTimeout('%s %s went to %s' % (kind, resource_id,
                                                    resource.status))
        return False
    wait_for(check, '%s %s to be deleted' % (kind, resource_id), timeout,
             progress)


def wait_for_backend(cinder, timeout=WAIT_TIMEOUT, progress=None,
                     watch=None, backends=1):
    """Wait until the scheduler knows a pool that can multi-attach.

    :param watch: see :func:`wait_for`.
    :param backends: how many backends must have such a pool.
    :returns: the pools' names, comma separated.
    """
    def check():
        # cinderclient flattens the capabilities into the pool.
        found = sorted(pool.name for pool in cinder.pools.list(detailed=True)
                       if getattr(pool, 'multiattach', False))
        if len({name.split('#')[0].split('@')[-1]
                for name in found}) >= backends:
            return ', '.join(found)
        return None
    what = ('a multi-attach pool in the scheduler' if backends == 1 else
            'a multi-attach pool of each of the %d backends' % backends)
    return wait_for(check, what, timeout, progress, interval=0.5,
                    watch=watch)
