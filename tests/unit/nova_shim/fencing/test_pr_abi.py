"""nova_shim.fencing.pr_abi against the kernel headers (linux-libc-dev)."""

import ctypes
import json
import os
import shutil
import subprocess

import testtools

from nova_shim.fencing import pr_abi
from tests.unit.nova_shim import block_fixtures

PR_H = '/usr/include/linux/pr.h'
NVME_IOCTL_H = '/usr/include/linux/nvme_ioctl.h'

# Prints, as JSON, what the C compiler sees in the headers. The read
# ioctls (Linux 6.19) and their structs are taken from the header when it
# has them; otherwise they are declared here with the kernel's own _IOR /
# _IOWR macros, which still checks the Python ioctl encoding.
C_PROGRAM = r'''
#include <stddef.h>
#include <stdio.h>
#include <linux/ioctl.h>
#include <linux/pr.h>
#include <linux/nvme_ioctl.h>

#ifdef IOC_PR_READ_KEYS
#define READ_FROM_HEADER 1
#else
#define READ_FROM_HEADER 0
struct pr_read_keys { __u32 generation; __u32 num_keys; __u64 keys_ptr; };
struct pr_read_reservation { __u64 key; __u32 generation; __u32 type; };
#define IOC_PR_READ_KEYS _IOWR('p', 206, struct pr_read_keys)
#define IOC_PR_READ_RESERVATION _IOR('p', 207, struct pr_read_reservation)
#endif

#define S(t) printf("\"%s\": %zu,\n", #t, sizeof(struct t))
#define O(t, f) printf("\"%s.%s\": %zu,\n", #t, #f, offsetof(struct t, f))
#define N(x) printf("\"%s\": %lu,\n", #x, (unsigned long)(x))

int main(void)
{
    printf("{\n");
    S(pr_registration); O(pr_registration, old_key);
    O(pr_registration, new_key); O(pr_registration, flags);
    O(pr_registration, __pad);
    S(pr_reservation); O(pr_reservation, key); O(pr_reservation, type);
    O(pr_reservation, flags);
    S(pr_preempt); O(pr_preempt, old_key); O(pr_preempt, new_key);
    O(pr_preempt, type); O(pr_preempt, flags);
    S(pr_clear); O(pr_clear, key); O(pr_clear, flags); O(pr_clear, __pad);
    S(pr_read_keys); O(pr_read_keys, generation); O(pr_read_keys, num_keys);
    O(pr_read_keys, keys_ptr);
    S(pr_read_reservation); O(pr_read_reservation, key);
    O(pr_read_reservation, generation); O(pr_read_reservation, type);
    S(nvme_passthru_cmd); O(nvme_passthru_cmd, nsid);
    O(nvme_passthru_cmd, addr); O(nvme_passthru_cmd, data_len);
    O(nvme_passthru_cmd, cdw10); O(nvme_passthru_cmd, cdw11);
    O(nvme_passthru_cmd, timeout_ms); O(nvme_passthru_cmd, result);
    N(IOC_PR_REGISTER); N(IOC_PR_RESERVE); N(IOC_PR_RELEASE);
    N(IOC_PR_PREEMPT); N(IOC_PR_PREEMPT_ABORT); N(IOC_PR_CLEAR);
    N(IOC_PR_READ_KEYS); N(IOC_PR_READ_RESERVATION);
    N(NVME_IOCTL_ID); N(NVME_IOCTL_IO_CMD);
    N(PR_WRITE_EXCLUSIVE); N(PR_EXCLUSIVE_ACCESS);
    N(PR_WRITE_EXCLUSIVE_REG_ONLY); N(PR_EXCLUSIVE_ACCESS_REG_ONLY);
    N(PR_WRITE_EXCLUSIVE_ALL_REGS); N(PR_EXCLUSIVE_ACCESS_ALL_REGS);
    N(PR_FL_IGNORE_KEY);
    printf("\"read_ioctls_from_header\": %d\n}\n", READ_FROM_HEADER);
    return 0;
}
'''

STRUCTS = {
    'pr_registration': (pr_abi.PrRegistration,
                        {'old_key': 'old_key', 'new_key': 'new_key',
                         'flags': 'flags', '__pad': '_pad'}),
    'pr_reservation': (pr_abi.PrReservation,
                       {'key': 'key', 'type': 'type', 'flags': 'flags'}),
    'pr_preempt': (pr_abi.PrPreempt,
                   {'old_key': 'old_key', 'new_key': 'new_key',
                    'type': 'type', 'flags': 'flags'}),
    'pr_clear': (pr_abi.PrClear,
                 {'key': 'key', 'flags': 'flags', '__pad': '_pad'}),
    'pr_read_keys': (pr_abi.PrReadKeys,
                     {'generation': 'generation', 'num_keys': 'num_keys',
                      'keys_ptr': 'keys_ptr'}),
    'pr_read_reservation': (pr_abi.PrReadReservation,
                            {'key': 'key', 'generation': 'generation',
                             'type': 'type'}),
    'nvme_passthru_cmd': (pr_abi.NvmePassthruCmd,
                          {f: f for f in ('nsid', 'addr', 'data_len',
                                          'cdw10', 'cdw11', 'timeout_ms',
                                          'result')}),
}


class HeaderTestCase(block_fixtures.TestCase):

    _values = None

    def setUp(self):
        super().setUp()
        gcc = shutil.which('gcc') or shutil.which('cc')
        if not gcc:
            self.skipTest('no C compiler to read the kernel headers')
        for header in (PR_H, NVME_IOCTL_H):
            if not os.path.exists(header):
                self.skipTest('%s missing (package linux-libc-dev)' % header)
        if HeaderTestCase._values is None:
            tmp = self.tempdir()
            src = os.path.join(tmp, 'pr_abi.c')
            exe = os.path.join(tmp, 'pr_abi')
            with open(src, 'w') as f:
                f.write(C_PROGRAM)
            subprocess.run([gcc, '-Wall', '-Werror', '-o', exe, src],
                           check=True, capture_output=True, timeout=120)
            out = subprocess.run([exe], check=True, capture_output=True,
                                 text=True, timeout=30).stdout
            HeaderTestCase._values = json.loads(out)
        self.c = HeaderTestCase._values

    def test_struct_sizes_and_offsets(self):
        for c_name, (py_struct, fields) in STRUCTS.items():
            self.assertEqual(self.c[c_name], ctypes.sizeof(py_struct),
                             c_name)
            for c_field, py_field in fields.items():
                self.assertEqual(self.c['%s.%s' % (c_name, c_field)],
                                 getattr(py_struct, py_field).offset,
                                 '%s.%s' % (c_name, c_field))

    def test_ioctl_numbers(self):
        for name in ('IOC_PR_REGISTER', 'IOC_PR_RESERVE', 'IOC_PR_RELEASE',
                     'IOC_PR_PREEMPT', 'IOC_PR_PREEMPT_ABORT',
                     'IOC_PR_CLEAR', 'IOC_PR_READ_KEYS',
                     'IOC_PR_READ_RESERVATION', 'NVME_IOCTL_ID',
                     'NVME_IOCTL_IO_CMD'):
            self.assertEqual(self.c[name], getattr(pr_abi, name), name)

    def test_known_values_on_x86_64(self):
        if os.uname().machine != 'x86_64':
            self.skipTest('literal values are for x86_64')
        self.assertEqual(0x401870c8, pr_abi.IOC_PR_REGISTER)
        self.assertEqual(0x401070c9, pr_abi.IOC_PR_RESERVE)
        self.assertEqual(0x401070ca, pr_abi.IOC_PR_RELEASE)
        self.assertEqual(0x401870cb, pr_abi.IOC_PR_PREEMPT)
        self.assertEqual(0x401870cc, pr_abi.IOC_PR_PREEMPT_ABORT)
        self.assertEqual(0x401070cd, pr_abi.IOC_PR_CLEAR)
        self.assertEqual(0xc01070ce, pr_abi.IOC_PR_READ_KEYS)
        self.assertEqual(0x801070cf, pr_abi.IOC_PR_READ_RESERVATION)

    def test_pr_types_and_flags(self):
        for member in pr_abi.PRType:
            self.assertEqual(self.c['PR_' + member.name], member.value)
        self.assertEqual(self.c['PR_FL_IGNORE_KEY'], pr_abi.PR_FL_IGNORE_KEY)


class EncodingTestCase(testtools.TestCase):

    def test_out_requests_table(self):
        self.assertEqual(6, len(pr_abi.PR_OUT_REQUESTS))
        self.assertIs(pr_abi.PrPreempt,
                      pr_abi.PR_OUT_REQUESTS[pr_abi.IOC_PR_PREEMPT_ABORT])

    def test_argument_too_large(self):
        self.assertRaises(ValueError, pr_abi._ioc, 1, 'p', 1, 1 << 20)
