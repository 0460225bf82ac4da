"""The tiny guest's disk benchmark (role ``iobench``).

A small static program, ``ebs-iobench``, measures the hot-plugged disk
with ``O_DIRECT`` (the guest's page cache out of the way) and prints one
console line::

    EBS-IOBENCH w4k_us=... r4k_us=... w4k_qd4_iops=... r4k_qd4_iops=...
        w1m_mbps=... r1m_mbps=...

* ``w4k_us`` / ``r4k_us``: median latency of one 4 KiB write / read, one
  at a time (queue depth 1), in microseconds;
* ``w4k_qd4_iops`` / ``r4k_qd4_iops``: 4 KiB writes / reads per second
  with four processes at once (queue depth 4), each on its own area;
* ``w1m_mbps`` / ``r1m_mbps``: 1 MiB writes / reads, MB/s.

It needs ``ebs_mib`` MiB of disk (first 16 MiB for the 4 KiB tests, the
rest for the 1 MiB ones).
"""

import re

LINE = re.compile(r'EBS-IOBENCH((?: \w+=[0-9.]+)+)')
FIELDS = ('w4k_us', 'r4k_us', 'w4k_qd4_iops', 'r4k_qd4_iops', 'w1m_mbps',
          'r1m_mbps')

SOURCE = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SMALL 4096L
#define BIG (1024L * 1024L)
#define OPS 512
#define WORKERS 4
#define SMALL_AREA (16L * BIG)

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int io(int fd, void *buf, long size, long off, int write_op)
{
    long done = write_op ? pwrite(fd, buf, size, off)
                         : pread(fd, buf, size, off);

    return done == size ? 0 : -1;
}

/* Median microseconds of OPS one-at-a-time 4 KiB operations. */
static double latency(int fd, void *buf, int write_op)
{
    static double took[OPS];
    int i;

    for (i = 0; i < OPS; i++) {
        double start = now();

        if (io(fd, buf, SMALL, (i * 7919L % (SMALL_AREA / SMALL)) * SMALL,
               write_op))
            return -1;
        took[i] = now() - start;
    }
    qsort(took, OPS, sizeof(took[0]), cmp);
    return took[OPS / 2] * 1e6;
}

/* 4 KiB operations per second with WORKERS processes at once. */
static double parallel(const char *dev, int write_op)
{
    long area = SMALL_AREA / WORKERS;
    double start = now();
    int i, status, failed = 0;

    for (i = 0; i < WORKERS; i++) {
        if (fork() == 0) {
            void *buf;
            int fd = open(dev, (write_op ? O_WRONLY : O_RDONLY) | O_DIRECT);
            int j;

            if (fd < 0 || posix_memalign(&buf, 4096, SMALL))
                _exit(1);
            memset(buf, 'p', SMALL);
            for (j = 0; j < OPS; j++)
                if (io(fd, buf, SMALL,
                       i * area + (j * 7919L % (area / SMALL)) * SMALL,
                       write_op))
                    _exit(1);
            _exit(0);
        }
    }
    for (i = 0; i < WORKERS; i++) {
        wait(&status);
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            failed = 1;
    }
    return failed ? -1 : WORKERS * OPS / (now() - start);
}

/* MB/s of 1 MiB operations over the area after the small one. */
static double throughput(int fd, void *buf, long mib, int write_op)
{
    long count = mib - SMALL_AREA / BIG;
    double start = now();
    long i;

    for (i = 0; i < count; i++)
        if (io(fd, buf, BIG, SMALL_AREA + i * BIG, write_op))
            return -1;
    return count * BIG / (now() - start) / 1e6;
}

int main(int argc, char **argv)
{
    double w4k, r4k, wq, rq, w1m, r1m;
    long mib;
    void *buf;
    int fd;

    if (argc != 3) {
        fprintf(stderr, "usage: ebs-iobench DEV MIB\n");
        return 2;
    }
    mib = atol(argv[2]);
    if (posix_memalign(&buf, 4096, BIG))
        return 1;
    memset(buf, 'x', BIG);
    fd = open(argv[1], O_RDWR | O_DIRECT);
    if (fd < 0) {
        printf("EBS-GUEST-ERROR iobench open %s\n", argv[1]);
        return 1;
    }
    w4k = latency(fd, buf, 1);
    r4k = latency(fd, buf, 0);
    wq = parallel(argv[1], 1);
    rq = parallel(argv[1], 0);
    w1m = throughput(fd, buf, mib, 1);
    r1m = throughput(fd, buf, mib, 0);
    close(fd);
    if (w4k < 0 || r4k < 0 || wq < 0 || rq < 0 || w1m < 0 || r1m < 0) {
        printf("EBS-GUEST-ERROR iobench io %s\n", argv[1]);
        return 1;
    }
    printf("EBS-IOBENCH w4k_us=%.0f r4k_us=%.0f w4k_qd4_iops=%.0f "
           "r4k_qd4_iops=%.0f w1m_mbps=%.1f r1m_mbps=%.1f\n",
           w4k, r4k, wq, rq, w1m, r1m);
    fflush(stdout);
    return 0;
}
"""


def parse(text, start=0):
    """The figures of every ``EBS-IOBENCH`` line of ``text`` from ``start``.

    :returns: a list of ``{field: float}``, oldest first.
    """
    results = []
    for match in LINE.finditer(text, start):
        pairs = (item.split('=') for item in match.group(1).split())
        results.append({name: float(value) for name, value in pairs})
    return results
