"""Decisions of nova_shim.fencing.agent, on a fake disk and a fake clock."""

import errno
import json
import os

import fixtures
import testtools

from nova_shim.fencing import agent as agent_mod
from nova_shim.fencing import lease
from nova_shim.fencing import reservations
from tests.unit.nova_shim.fencing import fake_lease_disk

KEY_A = reservations.host_key(nqn='nqn.2014-08.org.nvmexpress:uuid:a')
KEY_B = reservations.host_key(nqn='nqn.2014-08.org.nvmexpress:uuid:b')
KEY_C = reservations.host_key(nqn='nqn.2014-08.org.nvmexpress:uuid:c')
REFRESH = 0.5
TIMEOUT = 2.0


class LeaseAgentTestCase(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.clock = fake_lease_disk.FakeClock()
        self.disk = fake_lease_disk.FakeDisk(self.clock)
        self.hooks = fake_lease_disk.FakeHooks(self.clock, self.disk)

    def agent(self, host='host-b', key=KEY_B, **kwargs):
        kwargs.setdefault('hooks', self.hooks)
        return agent_mod.LeaseAgent(
            self.disk.view(host), self.clock, host, key,
            refresh_interval=REFRESH, takeover_timeout=TIMEOUT,
            io_latency=0.5, **kwargs)

    def record(self):
        return lease.decode(self.disk.read('test', self.offset()))

    def offset(self):
        return self.disk.view('test').offset

    def primary_a(self, epoch=5, beats_until=None, interval=REFRESH):
        """Host A holds the lease; it heartbeats until ``beats_until``."""
        self.disk.register('host-a', KEY_A)
        self.disk.reserve('host-a', KEY_A)
        state = {'record': lease.Record('host-a', KEY_A, epoch, 7)}
        self.disk.write('host-a', self.offset(), state['record'].encode())
        self.beats = []

        def beat():
            state['record'] = state['record'].beat()
            try:
                self.disk.write('host-a', self.offset(),
                                state['record'].encode())
            except OSError:
                return
            self.beats.append(self.clock.now)

        if beats_until is not None:
            self.clock.every(interval, interval, beats_until, beat)
        return state

    def written(self, host):
        return [lease.decode(block) for h, block in self.disk.writes
                if h == host]

    def stop_at(self, agent, when):
        self.clock.at(when, agent.request_stop)

    def hook_calls(self, kind):
        return [(t, info) for t, k, info in self.hooks.calls if k == kind]

    def ops(self, host, *names):
        return [c for c in self.disk.calls if c[0] == host and c[1] in names]

    # -- takeover ------------------------------------------------------

    def test_no_record_first_agent_becomes_primary_at_once(self):
        agent = self.agent()
        self.stop_at(agent, 3.2)
        status = agent.run()
        self.assertEqual(agent_mod.EXIT_OK, status)
        (when, info), = self.hook_calls('promote')
        self.assertEqual(0.0, when)
        self.assertEqual({'state': 'primary', 'epoch': 1,
                          'holder': 'host-b', 'key': '%#018x' % KEY_B,
                          'device': fake_lease_disk.DEVICE}, info)
        # Heartbeats every refresh interval until the stop.
        # Epoch record, a heartbeat every refresh interval, released mark.
        self.assertEqual([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.2],
                         [t for t, host, op in self.disk.call_times
                          if op == 'write'])
        self.assertEqual(list(range(0, 7)) + [7],
                         [r.heartbeat for r in self.written('host-b')])

    def test_takeover_after_timeout_and_not_before(self):
        self.primary_a(beats_until=10.0)
        agent = self.agent()
        self.stop_at(agent, 20.0)
        agent.run()
        (when, info), = self.hook_calls('promote')
        last_beat = self.beats[-1]
        self.assertEqual(10.0, last_beat)
        # The standby saw the last beat at most one poll later, then
        # waited the whole timeout.
        self.assertGreaterEqual(when, last_beat + TIMEOUT)
        self.assertLessEqual(when, last_beat + TIMEOUT + REFRESH)
        self.assertEqual(6, info['epoch'])
        self.assertEqual([('host-b', {'host-b': KEY_B})], self.hooks.holders)
        # Preempt-and-abort of A's key, then the reservation.
        self.assertEqual([('host-b', 'preempt-abort', KEY_B),
                          ('host-b', 'reserve', KEY_B)],
                         self.ops('host-b', 'preempt-abort', 'preempt',
                                  'reserve'))

    def test_no_takeover_while_heartbeats_are_late_within_timeout(self):
        # A beats every 1.4 s instead of 0.5 s: late, but a standby
        # polling every 0.5 s sees a change at least every 1.9 s < 2 s.
        self.primary_a(beats_until=30.0, interval=1.4)
        agent = self.agent()
        self.stop_at(agent, 30.0)
        self.assertEqual(agent_mod.EXIT_OK, agent.run())
        self.assertEqual([], self.hook_calls('promote'))
        self.assertEqual('host-a', self.disk.holder)
        self.assertEqual([], self.ops('host-b', 'write', 'preempt',
                                      'preempt-abort', 'reserve'))
        self.assertEqual(agent_mod.STOPPED, agent.state)
        self.assertNotIn('host-b', self.disk.registrations)

    def test_takeover_when_heartbeats_get_later_than_timeout(self):
        # Same standby, but A now beats every 2.6 s: it is taken over.
        self.primary_a(beats_until=30.0, interval=2.6)
        agent = self.agent()
        self.stop_at(agent, 30.0)
        agent.run()
        (when, info), = self.hook_calls('promote')
        self.assertLess(when, 2.6 + TIMEOUT + REFRESH)
        self.assertEqual('host-b', self.hooks.holders[0][0])

    def test_epoch_grows_at_every_takeover(self):
        self.primary_a(epoch=41, beats_until=1.0)
        b = self.agent()
        self.clock.at(5.0, b.request_stop)
        b.run()
        # b handed over (released): the next agent takes over at once.
        self.assertEqual((42, True), (self.record().epoch,
                                      self.record().released))
        c = self.agent(host='host-c', key=KEY_C)
        start = self.clock.now
        self.stop_at(c, start + 1.0)
        c.run()
        self.assertEqual([41 + 1, 41 + 2],
                         [info['epoch'] for t, info in
                          self.hook_calls('promote')])
        self.assertEqual(start, self.hook_calls('promote')[1][0])
        self.assertEqual(43, self.record().epoch)

    def test_preempt_without_abort_support(self):
        self.disk.abort_supported = False
        self.primary_a(beats_until=1.0)
        agent = self.agent()
        self.stop_at(agent, 10.0)
        agent.run()
        self.assertEqual('host-b', self.hooks.holders[0][0])
        self.assertEqual(['preempt-abort', 'preempt', 'reserve'],
                         [c[1] for c in self.ops('host-b', 'preempt-abort',
                                                 'preempt', 'reserve')])

    def test_takeover_refused_while_another_host_holds(self):
        # The reservation is held but no record was written (the holder
        # died between its reserve and its first write): nobody to
        # preempt, so the standby must not write; it retries once per
        # takeover timeout.
        self.disk.register('host-x', KEY_C)
        self.disk.reserve('host-x', KEY_C)
        agent = self.agent()
        self.stop_at(agent, 5.0)
        self.assertEqual(agent_mod.EXIT_OK, agent.run())
        self.assertEqual([], self.ops('host-b', 'write'))
        self.assertEqual([0.0, 2.0, 4.0],
                         [t for t, host, op in self.disk.call_times
                          if (host, op) == ('host-b', 'reserve')])
        self.assertEqual('host-x', self.disk.holder)

    def test_corrupt_record_is_no_heartbeat(self):
        self.primary_a(epoch=9, beats_until=3.0)
        garbage = bytearray(lease.Record('host-a', KEY_A, 9, 99).encode())
        garbage[20] ^= 0xff  # checksum now wrong

        def corrupt():
            self.disk.data[self.offset():self.offset() + len(garbage)] = (
                garbage)

        # From 3.2 s the block is corrupt (and changes no more).
        self.clock.at(3.2, corrupt)
        agent = self.agent()
        self.stop_at(agent, 20.0)
        agent.run()
        (when, info), = self.hook_calls('promote')
        self.assertGreaterEqual(when, 3.0 + TIMEOUT)
        self.assertLessEqual(when, 3.0 + TIMEOUT + REFRESH)
        # The victim is the last valid holder; the epoch follows its.
        self.assertEqual(10, info['epoch'])
        self.assertEqual([('host-b', {'host-b': KEY_B})], self.hooks.holders)

    def test_other_data_at_offset_refuses_to_start(self):
        self.disk.data[self.offset():self.offset() + 9] = b'\x7fELF\x02xx'
        agent = self.agent()
        self.assertEqual(agent_mod.EXIT_CONFIG, agent.run())
        self.assertEqual([], self.ops('host-b', 'write'))
        self.assertEqual(b'\x7fELF', bytes(
            self.disk.data[self.offset():self.offset() + 4]))
        self.assertNotIn('host-b', self.disk.registrations)

    def test_no_reservations(self):
        self.disk.reservations_supported = False
        agent = self.agent()
        self.assertEqual(agent_mod.EXIT_NO_RESERVATIONS, agent.run())
        self.assertEqual([], self.ops('host-b', 'write'))

    # -- primary -------------------------------------------------------

    def test_demote_on_refused_write(self):
        agent = self.agent()

        def preempt_b():
            self.disk.register('host-a', KEY_A)
            self.disk.preempt('host-a', KEY_A, KEY_B, abort=True)

        self.clock.at(3.1, preempt_b)
        self.clock.at(30.0, agent.request_stop)  # not reached
        self.assertEqual(agent_mod.EXIT_DEMOTED, agent.run())
        self.assertEqual(agent_mod.DEMOTED, agent.state)
        (when, info), = self.hook_calls('demote')
        # Demoted at the first refresh after the preempt.
        self.assertEqual(3.5, when)
        self.assertEqual('demoted', info['state'])
        self.assertIn('write refused', info['reason'])
        writes_after = [c for c in self.disk.calls[
            self.disk.calls.index(('host-a', 'preempt-abort', KEY_A)):]
            if c[:2] == ('host-b', 'write')]
        self.assertEqual(1, len(writes_after))
        self.assertEqual('host-a', self.disk.holder)

    def test_demote_when_refresh_keeps_failing(self):
        agent = self.agent()
        self.clock.at(1.1, lambda: self.disk.io_errors.update(
            {'host-b': errno.EIO}))
        self.clock.at(30.0, agent.request_stop)  # not reached
        self.assertEqual(agent_mod.EXIT_DEMOTED, agent.run())
        (when, info), = self.hook_calls('demote')
        # Last good refresh at 1.0 s; gives up once TIMEOUT passed.
        self.assertEqual(1.0 + TIMEOUT, when)
        self.assertIn('no refresh', info['reason'])

    def test_sigterm_hands_over(self):
        agent = self.agent()
        self.stop_at(agent, 2.2)
        self.assertEqual(agent_mod.EXIT_OK, agent.run())
        self.assertEqual(agent_mod.RELEASED, agent.state)
        record = self.record()
        self.assertTrue(record.released)
        self.assertEqual(('host-b', KEY_B, 1), record[:3])
        self.assertIsNone(self.disk.holder)
        self.assertEqual({}, self.disk.registrations)
        (when, info), = self.hook_calls('demote')
        self.assertEqual((2.2, 'released', 'stop'),
                         (when, info['state'], info['reason']))
        # The hook ran before the reservation went.
        order = [c[1] for c in self.disk.calls if c[0] == 'host-b']
        self.assertEqual(['write', 'release', 'unregister'], order[-3:])

    def test_standby_takes_over_released_lease_within_one_poll(self):
        state = self.primary_a(beats_until=4.0)

        def hand_over():
            state['record'] = state['record'].release()
            self.disk.write('host-a', self.offset(),
                            state['record'].encode())
            self.disk.release('host-a', KEY_A)
            self.disk.unregister('host-a', KEY_A)

        self.clock.at(4.2, hand_over)
        agent = self.agent()
        self.stop_at(agent, 10.0)
        agent.run()
        (when, info), = self.hook_calls('promote')
        self.assertGreater(when, 4.2)
        self.assertLessEqual(when, 4.2 + REFRESH)
        self.assertEqual(6, info['epoch'])

    def test_released_mark_before_release_still_hands_over(self):
        # The standby sees the mark and preempts before A released: A's
        # release then conflicts, which is still a clean hand-over.
        a = self.agent(host='host-a', key=KEY_A)

        def b_takes_over():
            self.disk.register('host-b', KEY_B)
            self.disk.preempt('host-b', KEY_B, KEY_A, abort=True)

        real_write = self.disk.write

        def write(host, offset, block):
            real_write(host, offset, block)
            if lease.decode(block).released:
                b_takes_over()

        self.useFixture(fixtures.MockPatchObject(self.disk, 'write', write))
        self.stop_at(a, 1.0)
        self.assertEqual(agent_mod.EXIT_OK, a.run())
        self.assertEqual(agent_mod.RELEASED, a.state)
        self.assertEqual('host-b', self.disk.holder)

    def test_state_file_and_log_line_per_change(self):
        logger = self.useFixture(fixtures.FakeLogger(
            name='nova_shim.fencing.agent', level='INFO'))
        path = os.path.join(self.useFixture(fixtures.TempDir()).path,
                            'state.json')
        self.primary_a(beats_until=1.0)
        agent = self.agent(state_file=path)
        self.stop_at(agent, 6.0)

        seen = []
        self.clock.at(1.2, lambda: seen.append(json.load(open(path))))
        agent.run()
        self.assertEqual('standby', seen[0]['state'])
        state = json.load(open(path))
        self.assertEqual({'state': 'released', 'epoch': 6,
                          'holder': 'host-b', 'key': '%#018x' % KEY_B,
                          'own_key': '%#018x' % KEY_B, 'host': 'host-b',
                          'device': fake_lease_disk.DEVICE,
                          'pid': os.getpid(), 'reason': None}, state)
        lines = [line for line in logger.output.splitlines()
                 if line.startswith('lease state=')]
        self.assertEqual(['standby', 'primary', 'released'],
                         [line.split()[1].split('=')[1] for line in lines])
        self.assertIn('lease state=primary epoch=6 holder=host-b key=%#018x'
                      % KEY_B, lines[1])


class TimingRuleTestCase(testtools.TestCase):

    def test_defaults_fit_the_rule_and_are_fast(self):
        agent_mod.check_timing(0.5, 2.0, 0.5)
        self.assertLessEqual(0.5, 5.0 / 10)
        self.assertLessEqual(2.0, 20.0 / 10)

    def test_rule(self):
        agent_mod.check_timing(1.0, 3.0, 0.0)
        exc = self.assertRaises(ValueError, agent_mod.check_timing,
                                1.0, 3.4, 0.5)
        self.assertIn('at least 3 x refresh interval (1s) + I/O latency '
                      'budget (0.5s) = 3.5s', str(exc))
        self.assertRaises(ValueError, agent_mod.check_timing, 0, 3, 0)
        self.assertRaises(ValueError, agent_mod.check_timing, 1, 9, -1)

    def test_agent_checks_its_arguments(self):
        disk = fake_lease_disk.FakeDisk()
        clock = fake_lease_disk.FakeClock()
        self.assertRaises(ValueError, agent_mod.LeaseAgent,
                          disk.view('h'), clock, 'h', KEY_A,
                          refresh_interval=1.0, takeover_timeout=1.0)
        for key in (0, 1 << 64, True, 'x'):
            self.assertRaises(ValueError, agent_mod.LeaseAgent,
                              disk.view('h'), clock, 'h', key)
        self.assertRaises(ValueError, agent_mod.LeaseAgent,
                          disk.view('h'), clock, 'h' * 65, KEY_A)

    def test_per_host_keys_differ(self):
        keys = {reservations.host_key(nqn='nqn.2014-08.org.nvmexpress:'
                                          'uuid:%d' % i) for i in range(50)}
        self.assertEqual(50, len(keys))
        self.assertEqual(3, len({KEY_A, KEY_B, KEY_C}))
