"""One 512-byte record at the start of a block device, with O_DIRECT.

The record is laid out as the tiny guest writes it (``printf '%-511s\\n'``):
the text padded with spaces to 511 bytes, then a newline. O_DIRECT needs
an aligned buffer; an anonymous mmap is page aligned.
"""

import mmap
import os

RECORD_SIZE = 512
_ALIGN = mmap.PAGESIZE


def encode_record(text):
    data = text.encode('utf-8')
    if len(data) > RECORD_SIZE - 1 or b'\n' in data:
        raise ValueError('a record is one line of at most %d bytes'
                         % (RECORD_SIZE - 1))
    return data.ljust(RECORD_SIZE - 1, b' ') + b'\n'


def decode_record(block):
    line = block[:RECORD_SIZE].split(b'\n', 1)[0]
    return line.replace(b'\0', b'').decode('utf-8', 'replace').rstrip(' ')


def write_record(path, text):
    """Write ``text`` as the first 512 bytes of ``path`` (O_DIRECT)."""
    buf = mmap.mmap(-1, _ALIGN)
    try:
        buf.write(encode_record(text))
        fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
        try:
            with memoryview(buf) as view:
                written = os.writev(fd, [view[:RECORD_SIZE]])
        finally:
            os.close(fd)
    finally:
        buf.close()
    if written != RECORD_SIZE:
        raise OSError('short O_DIRECT write to %s: %d bytes'
                      % (path, written))


def read_record(path):
    """The record in the first 512 bytes of ``path`` (O_DIRECT)."""
    buf = mmap.mmap(-1, _ALIGN)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        try:
            with memoryview(buf) as view:
                got = os.readv(fd, [view[:RECORD_SIZE]])
        finally:
            os.close(fd)
        if got != RECORD_SIZE:
            raise OSError('short O_DIRECT read from %s: %d bytes'
                          % (path, got))
        return decode_record(bytes(buf[:RECORD_SIZE]))
    finally:
        buf.close()
