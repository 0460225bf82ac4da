#!/usr/bin/env python3
"""ECS calls and Cinder database reads of one stats refresh that reconciles.

For each size N: starts the emulator (a subprocess on loopback, temporary
state) with N disks tagged as Cinder's, a share of them attached to the
instances of 16 hosts, and a Cinder database (SQLite, in a temporary
directory) with the N volumes and an attachment record for each of those
attachments. Each round then attaches ``--leaks`` disks of ``available``
volumes behind Cinder's back (what a volume service killed during an
attach leaves) and refreshes the driver's stats three times:

* reconciliation off (``ebs_reconcile_attachments = False``): the
  reference, the listing alone;
* reconciliation on: it detaches the leaked attachments;
* reconciliation on again: nothing left to repair.

Prints, per pass, the ECS calls by action (counted in the emulator's
access log), the SELECT statements Cinder's database engine ran (counted
by an event listener on the engine) and the time, median (min-max) of
the rounds. The driver runs with its default poll interval, the
emulator with the tests' transition time (0.05 s). Figures only; nothing
is asserted.

    PYTHONPATH=. python tools/bench_reconcile.py [--rounds 3] \\
        [--attached 0.3] [--leaks 10] [disks ...]

(run from the top of the tree: the emulator fixture of the tests starts
the emulator). Default sizes: 1000 and 10000 disks.
"""

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid

from cinder.common import config as cinder_config
from cinder import context
from cinder import coordination
from cinder.db import api as cinder_db
from cinder.db import models as cinder_models
from cinder.volume import configuration
from cinder.volume import driver as cinder_driver
from oslo_serialization import jsonutils
from oslo_utils import timeutils
import sqlalchemy

from cinder_ebs_driver import driver as ebs_driver
from cinder_ebs_driver import host_release
from cinder_ebs_driver import naming
from ebs_emulator import db as emu_db
from tests import emulator_fixture

BACKEND = 'ebs-bench'
HOSTS = 16
CONF = cinder_config.CONF
PASSES = (('reconciliation off (reference)', False),
          ('reconciliation on, repairs', True),
          ('reconciliation on, nothing to repair', True))


def _configure(state_dir):
    CONF([], project='cinder')
    CONF.set_override('connection', 'sqlite:///%s' % os.path.join(
        state_dir, 'cinder.sqlite'), group='database')
    CONF.set_override('backend_url', 'file://' + state_dir,
                      group='coordination')
    cinder_models.BASE.metadata.create_all(cinder_db.get_engine())
    coordination.COORDINATOR.start()


def _seed(emu, total, attached):
    """N disks and volumes; ``attached`` of them attached and recorded.

    :returns: the disk ids of the volumes left ``available``.
    """
    volume_ids = [str(uuid.uuid4()) for _ in range(total)]
    disk_ids = ['d-rec%09d' % n for n in range(total)]
    instances = emu.instances[:HOSTS]
    step = total / float(attached) if attached else total + 1
    on_host = {int(k * step): instances[k % HOSTS] for k in range(attached)}
    _seed_cinder(volume_ids, disk_ids, on_host)
    emu.stop()
    database = emu_db.Database(emu.state_dir)
    try:
        emulator_fixture.add_disks(
            database, emu.region_id, emu.zone_id, total, prefix='d-rec',
            tags=lambda n: {naming.VOLUME_TAG: volume_ids[n]})
        with database.session() as session:
            for n, instance in on_host.items():
                session.add(emu_db.Attachment(
                    disk_id=disk_ids[n], instance_id=instance['InstanceId'],
                    state='attached', attached_at=time.time(),
                    device='seed-%d' % n))
    finally:
        database.dispose()
    emu.start()
    return [disk_id for n, disk_id in enumerate(disk_ids)
            if n not in on_host]


def _seed_cinder(volume_ids, disk_ids, on_host):
    """Cinder's volumes (replacing any), and a record per attachment."""
    ctxt = context.get_admin_context()
    now = timeutils.utcnow()
    type_id = str(uuid.uuid4())
    volumes, records = [], []
    for n, (volume_id, disk_id) in enumerate(zip(volume_ids, disk_ids)):
        instance = on_host.get(n)
        volumes.append(dict(
            id=volume_id, host='bench@%s#%s' % (BACKEND, BACKEND), size=20,
            status='in-use' if instance else 'available',
            attach_status='attached' if instance else 'detached',
            volume_type_id=type_id, provider_id=disk_id, project_id='bench',
            user_id='bench', availability_zone='nova', use_quota=True,
            deleted=False, created_at=now))
        if instance:
            host = instance['HostName']
            records.append(dict(
                id=str(uuid.uuid4()), volume_id=volume_id,
                attach_status='attached', attach_mode='rw',
                attached_host=host, instance_uuid=str(uuid.uuid4()),
                connector=jsonutils.dumps({'host': host}), deleted=False,
                created_at=now))
    tables = [(cinder_models.VolumeType, [dict(
        id=type_id, name='bench', is_public=True, deleted=False,
        created_at=now)]),
        (cinder_models.Volume, volumes),
        (cinder_models.VolumeAttachment, records)]
    with cinder_db.main_context_manager.writer.using(ctxt) as session:
        for model, _ in reversed(tables):
            session.execute(model.__table__.delete())
        for model, rows in tables:
            if rows:
                session.execute(model.__table__.insert(), rows)


def _driver(emu):
    conf = configuration.Configuration(cinder_driver.volume_opts,
                                       config_group=BACKEND)
    options = emu.driver_options(
        ebs_host_instance_map=emu.host_instance_map(),
        ebs_stats_min_interval=0, ebs_api_timeout=120,
        volume_backend_name=BACKEND)
    driver = ebs_driver.EBSVolumeDriver(configuration=conf)
    for name, value in options.items():
        CONF.set_override(name, value, group=BACKEND)
    driver.do_setup(None)
    return driver


def _leak(client, disk_ids, instances):
    """Attach the disks where no Cinder record accounts for them."""
    for n, disk_id in enumerate(disk_ids):
        client.attach_disk(disk_id, instances[n % len(instances)])
    for n, disk_id in enumerate(disk_ids):
        client.wait_for_attachment(disk_id, instances[n % len(instances)])


class _Selects(object):
    """SELECT statements run by an engine while in use."""

    def __init__(self, engine):
        self.engine = engine
        self.count = 0

    def _seen(self, conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith('SELECT'):
            self.count += 1

    def __enter__(self):
        sqlalchemy.event.listen(self.engine, 'before_cursor_execute',
                                self._seen)
        return self

    def __exit__(self, *exc):
        sqlalchemy.event.remove(self.engine, 'before_cursor_execute',
                                self._seen)


def _refresh(emu, driver, reconcile):
    """(seconds, ECS calls by action, SELECTs) of one stats refresh."""
    CONF.set_override('ebs_reconcile_attachments', reconcile,
                      group=BACKEND)
    before = emu.call_counts()
    with _Selects(cinder_db.get_engine()) as selects:
        start = time.perf_counter()
        driver.get_volume_stats(refresh=True)
        elapsed = time.perf_counter() - start
    # The access line is written after the answer: let the last one land.
    time.sleep(0.1)
    after = emu.call_counts()
    return elapsed, after - before, selects.count


def _calls(counters):
    actions = sorted(set().union(*counters))
    return ', '.join('%s %g' % (action, statistics.median(
        c[action] for c in counters)) for action in actions) or 'none'


def _bench(total, args):
    emu = emulator_fixture.EmulatorFixture(num_instances=HOSTS)
    emu.setUp()
    try:
        attached = int(total * args.attached)
        available = _seed(emu, total, attached)
        driver = _driver(emu)
        leaked = available[:args.leaks]
        instances = [i['InstanceId'] for i in emu.instances[:HOSTS]]
        results = {label: [] for label, _ in PASSES}
        for _ in range(args.rounds):
            _leak(driver.client, leaked, instances)
            for label, reconcile in PASSES:
                results[label].append(_refresh(emu, driver, reconcile))
        print('Stats refresh with reconciliation: %d Cinder disks, %d '
              'attached to %d hosts with a Cinder record, %d leaked '
              '(attached without one); median (min-max) of %d:'
              % (total, attached, HOSTS, len(leaked), args.rounds))
        for label, _ in PASSES:
            times = [r[0] for r in results[label]]
            print('  %-38s %.2f (%.2f-%.2f) s  DB SELECTs %g  ECS: %s' % (
                label, statistics.median(times), min(times), max(times),
                statistics.median(r[2] for r in results[label]),
                _calls([r[1] for r in results[label]])))
    finally:
        host_release.stop_all()
        emu.cleanUp()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('disks', nargs='*', type=int, default=[1000, 10000])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--attached', type=float, default=0.3,
                        help='share of the disks attached (default 0.3)')
    parser.add_argument('--leaks', type=int, default=10,
                        help='attachments no record accounts for, made '
                             'before each round (default 10)')
    args = parser.parse_args(argv[1:])
    # One warning per repair: not the figures.
    logging.getLogger('cinder_ebs_driver').setLevel(logging.ERROR)
    state_dir = tempfile.mkdtemp(prefix='bench-reconcile-')
    try:
        _configure(state_dir)
        for total in args.disks:
            _bench(total, args)
    finally:
        coordination.COORDINATOR.stop()
        shutil.rmtree(state_dir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
