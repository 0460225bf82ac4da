"""Durable emulator state: SQLAlchemy models in one SQLite file.

The engine comes from oslo.db so that SQLite gets the same connection
handling (foreign keys, synchronous writes, retries) as OpenStack services.
Everything that must survive a restart lives here: disks, attachments,
snapshots with their chunk manifests, chunk reference counts, tags and
idempotency tokens.  Pending status transitions are simply rows whose
``due_at`` is set; the transition worker finishes them, also after a
restart.
"""

import contextlib
import os

from oslo_db.sqlalchemy import engines
import sqlalchemy as sa
from sqlalchemy import orm

DB_FILE = 'emulator.sqlite'


class Base(orm.DeclarativeBase):
    pass


class Disk(Base):
    __tablename__ = 'disks'
    # Describe* list in creation order.
    __table_args__ = (sa.Index('ix_disks_created', 'created_at', 'id'),)

    id = sa.Column(sa.String(32), primary_key=True)
    region_id = sa.Column(sa.String(64), nullable=False)
    zone_id = sa.Column(sa.String(64), nullable=False)
    name = sa.Column(sa.String(128), nullable=False, default='',
                     index=True)
    description = sa.Column(sa.String(256), nullable=False, default='')
    size = sa.Column(sa.Integer, nullable=False)
    category = sa.Column(sa.String(64), nullable=False)
    performance_level = sa.Column(sa.String(8), nullable=False, default='')
    multi_attach = sa.Column(sa.Boolean, nullable=False, default=False)
    encrypted = sa.Column(sa.Boolean, nullable=False, default=False)
    # Stored status: Creating, Available or ReIniting.  Attachment states
    # (Attaching, In_use, Detaching) are derived from the attachments.
    status = sa.Column(sa.String(16), nullable=False, index=True)
    due_at = sa.Column(sa.Float, nullable=True, index=True)
    source_snapshot_id = sa.Column(sa.String(32), nullable=False, default='',
                                   index=True)
    created_at = sa.Column(sa.Float, nullable=False)
    delete_auto_snapshot = sa.Column(sa.Boolean, nullable=False, default=True)
    enable_auto_snapshot = sa.Column(sa.Boolean, nullable=False, default=True)
    # When an attachment last completed and a detach last ended (None:
    # never); DescribeDisks' AttachedTime and DetachedTime.
    attached_at = sa.Column(sa.Float, nullable=True)
    detached_at = sa.Column(sa.Float, nullable=True)
    # ESSD AutoPL only (None for other categories).
    provisioned_iops = sa.Column(sa.Integer, nullable=True)
    bursting_enabled = sa.Column(sa.Boolean, nullable=True)

    attachments = orm.relationship(
        'Attachment', order_by='Attachment.attached_at',
        cascade='all, delete-orphan', lazy='selectin')


class Attachment(Base):
    __tablename__ = 'attachments'

    disk_id = sa.Column(sa.String(32), sa.ForeignKey('disks.id'),
                        primary_key=True)
    instance_id = sa.Column(sa.String(64), primary_key=True, index=True)
    # attaching -> attached -> detaching -> (row removed)
    state = sa.Column(sa.String(16), nullable=False)
    due_at = sa.Column(sa.Float, nullable=True, index=True)
    device = sa.Column(sa.String(32), nullable=False)
    attached_at = sa.Column(sa.Float, nullable=False)
    delete_with_instance = sa.Column(sa.Boolean, nullable=False,
                                     default=False)


class Snapshot(Base):
    __tablename__ = 'snapshots'
    __table_args__ = (sa.Index('ix_snapshots_created', 'created_at', 'id'),)

    id = sa.Column(sa.String(32), primary_key=True)
    region_id = sa.Column(sa.String(64), nullable=False)
    source_disk_id = sa.Column(sa.String(32), nullable=False, index=True)
    source_disk_size = sa.Column(sa.Integer, nullable=False)
    source_disk_category = sa.Column(sa.String(64), nullable=False)
    encrypted = sa.Column(sa.Boolean, nullable=False, default=False)
    name = sa.Column(sa.String(128), nullable=False, default='')
    description = sa.Column(sa.String(256), nullable=False, default='')
    # progressing -> accomplished
    status = sa.Column(sa.String(16), nullable=False)
    due_at = sa.Column(sa.Float, nullable=True, index=True)
    created_at = sa.Column(sa.Float, nullable=False)


class SnapshotChunk(Base):
    """One non-zero chunk of a snapshot: index in the disk -> content."""
    __tablename__ = 'snapshot_chunks'

    snapshot_id = sa.Column(sa.String(32), sa.ForeignKey('snapshots.id'),
                            primary_key=True)
    chunk_index = sa.Column(sa.Integer, primary_key=True)
    chunk_hash = sa.Column(sa.String(64), nullable=False, index=True)


class Chunk(Base):
    """A content-addressed chunk file and how many snapshots use it."""
    __tablename__ = 'chunks'

    hash = sa.Column(sa.String(64), primary_key=True)
    refcount = sa.Column(sa.Integer, nullable=False)


class Tag(Base):
    __tablename__ = 'tags'
    # Tag filters of Describe* actions: resources carrying a key (=value).
    __table_args__ = (sa.Index('ix_tags_key_value', 'resource_type', 'key',
                               'value'),)

    resource_type = sa.Column(sa.String(16), primary_key=True)
    resource_id = sa.Column(sa.String(32), primary_key=True)
    key = sa.Column(sa.String(128), primary_key=True)
    value = sa.Column(sa.String(128), nullable=False, default='')
    created_at = sa.Column(sa.Float, nullable=False)


class ClientToken(Base):
    """Idempotency record: same token and parameters, same resource."""
    __tablename__ = 'client_tokens'

    action = sa.Column(sa.String(64), primary_key=True)
    token = sa.Column(sa.String(64), primary_key=True)
    digest = sa.Column(sa.String(64), nullable=False)
    resource_id = sa.Column(sa.String(32), nullable=False)
    created_at = sa.Column(sa.Float, nullable=False)


class Reservation(Base):
    """The persistent-reservation state of a disk (see reservations)."""
    __tablename__ = 'pr_reservations'

    disk_id = sa.Column(sa.String(32), primary_key=True)
    generation = sa.Column(sa.Integer, nullable=False, default=0)
    # pr_type number, or None when nothing is reserved
    rtype = sa.Column(sa.Integer, nullable=True)
    holder = sa.Column(sa.String(64), nullable=True)


class Registration(Base):
    """A host (instance) registered with a reservation key on a disk."""
    __tablename__ = 'pr_registrations'

    disk_id = sa.Column(sa.String(32), primary_key=True)
    instance_id = sa.Column(sa.String(64), primary_key=True)
    # 64-bit unsigned keys do not fit SQLite's signed integers.
    key = sa.Column(sa.String(18), nullable=False)
    position = sa.Column(sa.Integer, nullable=False)


class Database(object):
    """The SQLite file of one state directory."""

    def __init__(self, state_dir):
        path = os.path.join(state_dir, DB_FILE)
        self.engine = engines.create_engine(
            'sqlite:///%s' % path, sqlite_fk=True, sqlite_synchronous=True,
            max_retries=0)
        Base.metadata.create_all(self.engine)
        # Tables of an older state directory get the columns and indexes
        # added since.
        inspector = sa.inspect(self.engine)
        for table in Base.metadata.sorted_tables:
            known = {column['name']
                     for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in known and column.nullable:
                    with self.engine.begin() as connection:
                        connection.execute(sa.text(
                            'ALTER TABLE %s ADD COLUMN %s %s' % (
                                table.name, column.name,
                                column.type.compile(self.engine.dialect))))
            for index in table.indexes:
                index.create(self.engine, checkfirst=True)
        self._sessions = orm.sessionmaker(bind=self.engine,
                                          expire_on_commit=False)

    @contextlib.contextmanager
    def session(self):
        """A transaction: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self):
        self.engine.dispose()


def add_chunk_refs(session, hashes):
    """Count one more reference for each hash; return the new ones."""
    created = []
    for chunk_hash in hashes:
        chunk = session.get(Chunk, chunk_hash)
        if chunk is None:
            session.add(Chunk(hash=chunk_hash, refcount=1))
            session.flush()
            created.append(chunk_hash)
        else:
            chunk.refcount += 1
    return created


def drop_chunk_refs(session, hashes):
    """Count one reference less; return the hashes nobody uses any more."""
    unused = []
    for chunk_hash in hashes:
        chunk = session.get(Chunk, chunk_hash)
        if chunk is None:
            continue
        chunk.refcount -= 1
        if chunk.refcount <= 0:
            session.delete(chunk)
            unused.append(chunk_hash)
    return unused


def known_chunks(session):
    return {row.hash for row in session.query(Chunk.hash)}
