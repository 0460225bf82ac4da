"""What the running all-in-one reports, as :class:`conf.Facts`.

Everything comes from the services, as the operator (admin) of the
clouds.yaml that ``ebs-allinone serve --auth keystone`` writes: the
token's catalog, cinder-api's version document (keystoneauth's version
discovery), the volume services, the pools with their capabilities, the
availability zones and the default volume type. With an image service
in the catalog, a small raw image is uploaded for the tests that create
volumes from one.
"""

import urllib.parse

from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

from tests.tempest import conf

# The smallest volume API version with every call made here.
VERSION = '3.0'
IMAGE_NAME = 'tempest-ebs-raw'
IMAGE_BYTES = 1024 * 1024


def admin_session(auth):
    """A keystoneauth session of a clouds.yaml ``auth`` entry."""
    return ks_session.Session(auth=v3.Password(**auth))


def catalog(session):
    """{service type: service name} of the token's catalog."""
    access = session.auth.get_access(session)
    return {entry['type']: entry.get('name', '')
            for entry in access.service_catalog.catalog}


def compute_answers(session):
    """Whether the compute service is Nova: it lists flavors.

    The all-in-one's stand-in compute API answers server look-ups only.
    """
    try:
        response = session.get(
            '/flavors', endpoint_filter={'service_type': 'compute'},
            raise_exc=False)
    except Exception:
        return False
    return response.status_code == 200


class VolumeAPI(object):
    """GETs of the volume API as the operator."""

    def __init__(self, session, service_type, region):
        self.session = session
        self.filter = {'service_type': service_type, 'interface': 'public',
                       'region_name': region}

    def get(self, path):
        headers = {'OpenStack-API-Version': 'volume %s' % VERSION}
        return self.session.get(path, endpoint_filter=self.filter,
                                headers=headers).json()

    def microversions(self):
        """(min, max) microversion of cinder-api's version document.

        keystoneauth's version discovery reads it; when that gives no
        microversions, the document at the root of the endpoint's host.
        """
        data = self.session.get_endpoint_data(**self.filter)
        if data and data.min_microversion and data.max_microversion:
            return (_version(data.min_microversion),
                    _version(data.max_microversion))
        url = urllib.parse.urlsplit(self.session.get_endpoint(**self.filter))
        root = '%s://%s/' % (url.scheme, url.netloc)
        return v3_microversions(self.session.get(root, authenticated=False,
                                                 raise_exc=False).json())

    def services(self):
        """Binaries of the services that are up and enabled."""
        return sorted({service['binary'] for service in
                       self.get('/os-services')['services']
                       if service['state'] == 'up'
                       and service['status'] == 'enabled'})

    def backend_zones(self, pools):
        """{volume_backend_name: zone} of the volume services' pools.

        A pool is named ``host@backend#pool``; its volume service is
        ``host@backend``, listed with its availability zone.
        """
        zones = {service['host']: service['zone'] for service in self.get(
            '/os-services?binary=cinder-volume')['services']}
        found = {}
        for pool in pools:
            service = pool['name'].split('#', 1)[0]
            name = pool.get('capabilities', {}).get('volume_backend_name')
            if name and service in zones:
                found[name] = zones[service]
        return found

    def pools(self):
        """Every pool: its name and capabilities."""
        return self.get('/scheduler-stats/get_pools?detail=True')['pools']

    def zones(self):
        return sorted(zone['zoneName'] for zone in self.get(
            '/os-availability-zone')['availabilityZoneInfo']
            if zone['zoneState']['available'])

    def default_type_specs(self):
        return self.get('/types/default')['volume_type'].get(
            'extra_specs') or {}


def v3_microversions(document):
    """(min, max) of the v3 API in a version document of cinder-api."""
    versions = document.get('versions') or [document.get('version', {})]
    for version in versions:
        if version.get('id', '').startswith('v3'):
            return version['min_version'], version['version']
    raise ValueError('no v3 in the version document %s' % document)


def _version(value):
    """'3.71' from keystoneauth's (3, 71)."""
    return '%d.%d' % tuple(value[:2])


def upload_image(session, region):
    """A small raw image through the image API; its id."""
    image_filter = {'service_type': 'image', 'interface': 'public',
                    'region_name': region}
    found = session.get('/v2/images', endpoint_filter=image_filter,
                        params={'name': IMAGE_NAME}).json()['images']
    if found:
        return found[0]['id']
    image = session.post('/v2/images', endpoint_filter=image_filter, json={
        'name': IMAGE_NAME, 'disk_format': 'raw',
        'container_format': 'bare', 'visibility': 'public'}).json()
    session.put('/v2/images/%s/file' % image['id'],
                endpoint_filter=image_filter, data=b'\0' * IMAGE_BYTES,
                headers={'Content-Type': 'application/octet-stream'})
    return image['id']


def discover(cloud):
    """:class:`conf.Facts` of the services of a clouds.yaml entry."""
    auth = cloud['auth']
    region = cloud.get('region_name', 'RegionOne')
    session = admin_session(auth)
    services = catalog(session)
    volume = VolumeAPI(session, conf.volume_catalog_type(services), region)
    low, high = volume.microversions()
    pools = volume.pools()
    capabilities = [pool.get('capabilities', {}) for pool in pools]
    first = capabilities[0] if capabilities else {}
    facts = conf.Facts(
        auth_url=auth['auth_url'], region=region,
        admin={key: auth[key] for key in (
            'username', 'password', 'project_name', 'user_domain_name',
            'project_domain_name')},
        catalog=services, min_microversion=low, max_microversion=high,
        default_type_specs=volume.default_type_specs(),
        default_category=first.get('ebs_default_category',
                                   conf.DEFAULT_CATEGORY),
        default_level=first.get('ebs_default_performance_level',
                                conf.DEFAULT_LEVEL),
        backends=[pool['volume_backend_name'] for pool in capabilities
                  if pool.get('volume_backend_name')],
        backend_zones=volume.backend_zones(pools),
        multiattach=bool(capabilities) and all(
            pool.get('multiattach') for pool in capabilities),
        vendor_name=first.get('vendor_name', ''),
        storage_protocol=first.get('storage_protocol', ''),
        services=volume.services(), zones=volume.zones(),
        compute=('compute' in services and compute_answers(session)))
    if 'image' in services:
        facts.image_ref = upload_image(session, region)
    return facts
