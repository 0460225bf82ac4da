"""Thin disk data: sparse disk files and a content-addressed chunk store.

* A disk is one sparse file of Size GiB under ``<state>/disks``; creating
  or growing it only changes its length, so it costs no space until data
  is written.
* A snapshot is a manifest ``{chunk index: sha256}`` of the disk's
  non-zero 1 MiB chunks.  Chunk files live under ``<state>/chunks`` named
  by their hash, so a chunk that did not change since the previous
  snapshot (same hash) is not stored again, and zero chunks are never
  stored at all.  Reference counts (kept in the database) decide when a
  chunk file may go; deleting a snapshot therefore never breaks another
  snapshot, and disks restored from a snapshot own a private copy.

Only the data extents of a disk file are read (SEEK_DATA/SEEK_HOLE), so
snapshotting a mostly empty large disk is cheap.
"""

import errno
import hashlib
import os

CHUNK_SIZE = 1024 * 1024
GIB = 1024 ** 3
_ZERO_CHUNK = bytes(CHUNK_SIZE)


class BlockStore(object):

    def __init__(self, state_dir):
        self.disk_dir = os.path.join(state_dir, 'disks')
        self.chunk_dir = os.path.join(state_dir, 'chunks')
        os.makedirs(self.disk_dir, exist_ok=True)
        os.makedirs(self.chunk_dir, exist_ok=True)

    # -- disk files -----------------------------------------------------------
    def disk_path(self, disk_id):
        return os.path.join(self.disk_dir, '%s.img' % disk_id)

    def create_disk(self, disk_id, size_gib):
        """Create (or, after a crash, reuse) the sparse file of a disk."""
        path = self.disk_path(disk_id)
        with open(path, 'ab'):
            pass
        if os.path.getsize(path) < size_gib * GIB:
            os.truncate(path, size_gib * GIB)
        return path

    def grow_disk(self, disk_id, size_gib):
        path = self.disk_path(disk_id)
        if os.path.getsize(path) < size_gib * GIB:
            os.truncate(path, size_gib * GIB)

    def delete_disk(self, disk_id):
        try:
            os.unlink(self.disk_path(disk_id))
        except FileNotFoundError:
            pass

    def _data_chunks(self, fd, length):
        """Yield (index, bytes) for every non-zero chunk of an open file."""
        offset = 0
        while offset < length:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError as exc:
                if exc.errno == errno.ENXIO:   # only a hole is left
                    return
                raise
            end = min(os.lseek(fd, start, os.SEEK_HOLE), length)
            index = start // CHUNK_SIZE
            while index * CHUNK_SIZE < end:
                data = os.pread(fd, CHUNK_SIZE, index * CHUNK_SIZE)
                if data and data != _ZERO_CHUNK[:len(data)]:
                    yield index, data
                index += 1
            offset = index * CHUNK_SIZE

    # -- snapshots ------------------------------------------------------------
    def capture(self, disk_id):
        """Store the disk's current non-zero chunks; return the manifest.

        Chunk files that already exist (same content in an earlier
        snapshot) are not written again.
        """
        manifest = {}
        path = self.disk_path(disk_id)
        fd = os.open(path, os.O_RDONLY)
        try:
            length = os.fstat(fd).st_size
            for index, data in self._data_chunks(fd, length):
                chunk_hash = hashlib.sha256(data).hexdigest()
                self._put_chunk(chunk_hash, data)
                manifest[index] = chunk_hash
        finally:
            os.close(fd)
        return manifest

    def restore(self, disk_id, manifest, size_gib):
        """Make the disk hold exactly the snapshot's data (rest zero)."""
        path = self.disk_path(disk_id)
        with open(path, 'ab'):
            pass
        # Dropping the length to zero turns all old data into holes.
        os.truncate(path, 0)
        os.truncate(path, size_gib * GIB)
        fd = os.open(path, os.O_WRONLY)
        try:
            for index, chunk_hash in sorted(manifest.items()):
                if index * CHUNK_SIZE >= size_gib * GIB:
                    continue
                with open(self._chunk_path(chunk_hash), 'rb') as chunk:
                    os.pwrite(fd, chunk.read(), index * CHUNK_SIZE)
        finally:
            os.close(fd)

    def _chunk_path(self, chunk_hash):
        return os.path.join(self.chunk_dir, chunk_hash[:2], chunk_hash)

    def _put_chunk(self, chunk_hash, data):
        path = self._chunk_path(chunk_hash)
        if os.path.exists(path):
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = '%s.tmp.%d' % (path, os.getpid())
        with open(tmp, 'wb') as out:
            out.write(data)
        # Rename last: a chunk file is either complete or absent.
        os.replace(tmp, path)

    def remove_chunks(self, hashes):
        for chunk_hash in hashes:
            try:
                os.unlink(self._chunk_path(chunk_hash))
            except FileNotFoundError:
                pass

    def collect_garbage(self, referenced):
        """Remove chunk files no snapshot refers to (left by a crash)."""
        for root, _dirs, files in os.walk(self.chunk_dir):
            for name in files:
                if name not in referenced:
                    os.unlink(os.path.join(root, name))

    def chunk_exists(self, chunk_hash):
        return os.path.exists(self._chunk_path(chunk_hash))
