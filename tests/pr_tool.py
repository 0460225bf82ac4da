"""Issue one persistent-reservation call or one I/O from its own process.

Tests use it so that reservation calls and I/O come from real separate
processes, as they would from two hosts::

    python -m tests.pr_tool DEVICE register KEY
    python -m tests.pr_tool DEVICE reserve KEY [TYPE]
    python -m tests.pr_tool DEVICE release KEY [TYPE]
    python -m tests.pr_tool DEVICE preempt KEY VICTIM [TYPE] [--abort]
    python -m tests.pr_tool DEVICE clear KEY
    python -m tests.pr_tool DEVICE unregister KEY
    python -m tests.pr_tool DEVICE write OFFSET TEXT
    python -m tests.pr_tool DEVICE read OFFSET LENGTH

It prints one JSON object: ``{"result": "ok"}`` (with ``data`` for a
read), ``{"result": "conflict"}``, ``{"result": "not-supported"}`` or
``{"result": "error", "errno": N}``. Keys are hexadecimal.
"""

import json
import mmap
import os
import sys

from nova_shim.fencing import pr_abi
from nova_shim.fencing import privsep
from nova_shim.fencing import reservations

BLOCK = 4096


def _io(device, op, args):
    offset = int(args[0])
    buf = mmap.mmap(-1, BLOCK)
    fd = os.open(device, (os.O_RDWR if op == 'write' else os.O_RDONLY) |
                 os.O_DIRECT)
    try:
        if op == 'write':
            data = args[1].encode()
            buf.write(data.ljust(BLOCK, b'\0'))
            os.pwritev(fd, [buf], offset)
            return {'result': 'ok'}
        os.preadv(fd, [buf], offset)
        return {'result': 'ok',
                'data': buf[:int(args[1])].rstrip(b'\0').decode()}
    finally:
        os.close(fd)


def run(argv):
    device, op, args = argv[0], argv[1], argv[2:]
    abort = '--abort' in args
    args = [a for a in args if a != '--abort']
    try:
        if op in ('write', 'read'):
            return _io(device, op, args)
        key = int(args[0], 16)
        if op == 'register':
            reservations.register(device, key, ignore_existing=True)
        elif op == 'unregister':
            reservations.unregister(device, key)
        elif op in ('reserve', 'release'):
            rtype = pr_abi.PRType[args[1]] if len(args) > 1 else (
                pr_abi.PRType.WRITE_EXCLUSIVE)
            getattr(reservations, op)(device, key, rtype)
        elif op == 'preempt':
            rtype = pr_abi.PRType[args[2]] if len(args) > 2 else (
                pr_abi.PRType.WRITE_EXCLUSIVE)
            reservations.preempt(device, key, int(args[1], 16), rtype,
                                 abort=abort)
        elif op == 'clear':
            reservations.clear(device, key)
        else:
            raise SystemExit('unknown operation %s' % op)
    except reservations.ReservationConflict:
        return {'result': 'conflict'}
    except reservations.ReservationNotSupported:
        return {'result': 'not-supported'}
    except reservations.ReservationError as exc:
        return {'result': 'error', 'errno': exc.errno}
    except OSError as exc:
        if reservations.is_conflict_error(exc):
            return {'result': 'conflict'}
        return {'result': 'error', 'errno': exc.errno}
    return {'result': 'ok'}


if __name__ == '__main__':
    # Root runs the privileged calls in this process.
    privsep.sys_admin_pctxt.set_client_mode(False)
    print(json.dumps(run(sys.argv[1:])))
