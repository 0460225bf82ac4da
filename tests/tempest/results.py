"""The results of a Tempest run, from its subunit v2 stream.

:func:`parse` reads the stream that ``stestr last --subunit`` writes;
:func:`report` gives the lines printed at the end of the run: the failures
with the end of their tracebacks, the skips grouped by reason, stestr's
``- Passed:`` totals (what tools/run-tests.sh reads) and a last line
``N passed, N failed, N skipped``.
"""

import collections
import dataclasses
import io
import re

import subunit
import testtools

PASSED = ('success', 'xfail')
SKIPPED = ('skip',)
# Anything else that ended (fail, uxsuccess) or never ended (exists,
# inprogress: a worker died) is a failure.
ATTRIBUTES = re.compile(r'\[[^\]]*\]$')
# setUpClass (module.Class) and friends: a class that did not set up.
FIXTURE = re.compile(r'^(\w+) \((\S+)\)$')
TRACEBACK_LINES = 3


@dataclasses.dataclass
class Results(object):
    passed: list = dataclasses.field(default_factory=list)
    # [(test id, traceback text)]
    failed: list = dataclasses.field(default_factory=list)
    # [(test id, reason)]
    skipped: list = dataclasses.field(default_factory=list)

    def counts(self):
        return len(self.passed), len(self.failed), len(self.skipped)


def _text(details, name):
    content = details.get(name)
    if content is None:
        return ''
    try:
        return content.as_text()
    except Exception:
        return ''


def short_id(test_id):
    """A test id without its attributes (``[id-...,smoke]``)."""
    return ATTRIBUTES.sub('', test_id)


def parse(data):
    """:class:`Results` of a subunit v2 byte stream."""
    results = Results()

    def collect(test):
        status = test['status']
        if status in PASSED:
            results.passed.append(test['id'])
        elif status in SKIPPED:
            results.skipped.append(
                (test['id'], _text(test['details'], 'reason').strip()))
        else:
            results.failed.append(
                (test['id'], _text(test['details'], 'traceback')))

    summary = testtools.StreamToDict(collect)
    stream = subunit.ByteStreamToStreamResult(io.BytesIO(data),
                                              non_subunit_name='stdout')
    summary.startTestRun()
    try:
        stream.run(summary)
    finally:
        summary.stopTestRun()
    return results


def test_class(test_id):
    """The class of a test id (or of a class fixture's id)."""
    test_id = short_id(test_id)
    match = FIXTURE.match(test_id)
    if match:
        return match.group(2)
    return test_id.rpartition('.')[0]


def skip_groups(skipped):
    """[(reason, [test ids])], the largest group first."""
    groups = collections.defaultdict(list)
    for test_id, reason in skipped:
        groups[reason or '(no reason given)'].append(short_id(test_id))
    return sorted(groups.items(), key=lambda item: (-len(item[1]),
                                                    item[0]))


def traceback_end(text, lines=TRACEBACK_LINES):
    """The last lines of a traceback: where it failed, and why."""
    found = [line.rstrip() for line in text.splitlines() if line.strip()]
    return found[-lines:] if found else ['(no traceback)']


def report(results):
    """The lines printed at the end of a run."""
    passed, failed, skipped = results.counts()
    out = []
    if results.failed:
        out.append('Failed (%d):' % failed)
        for test_id, traceback in results.failed:
            out.append('  %s' % short_id(test_id))
            out.extend('      %s' % line for line in traceback_end(traceback))
        out.append('')
    if results.skipped:
        out.append('Skipped (%d), by reason:' % skipped)
        for reason, tests in skip_groups(results.skipped):
            classes = sorted({test_class(test) for test in tests})
            out.append('  %3d  %s' % (len(tests), reason))
            out.extend('         %s' % name for name in classes)
        out.append('')
    out.extend(['Totals', ' - Passed: %d' % passed,
                ' - Skipped: %d' % skipped, ' - Failed: %d' % failed,
                '%d passed, %d failed, %d skipped' % (passed, failed,
                                                      skipped)])
    return out
