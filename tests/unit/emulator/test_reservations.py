"""The NVMe reservation rules of ebs_emulator.reservations, one by one."""

import testtools

from ebs_emulator import reservations
from nova_shim.fencing import pr_abi

S = reservations.Status
T = pr_abi.PRType
KA, KB, KC = 0xA1, 0xB2, 0xC3


def registered(*hosts_keys, **kw):
    state = reservations.DiskReservations()
    for host, key in hosts_keys:
        assert state.register(host, 0, key) is S.SUCCESS
    for name, value in kw.items():
        setattr(state, name, value)
    return state


class RegisterTestCase(testtools.TestCase):

    def test_register_counts_a_generation(self):
        state = reservations.DiskReservations()
        self.assertIs(S.SUCCESS, state.register('a', 0, KA))
        self.assertEqual({'a': KA}, state.registrants)
        self.assertEqual(1, state.generation)

    def test_register_again_same_key_succeeds(self):
        state = registered(('a', KA))
        self.assertIs(S.SUCCESS, state.register('a', 0, KA))
        self.assertEqual({'a': KA}, state.registrants)

    def test_register_other_key_conflicts_even_ignoring_key(self):
        # "Ignore existing key" is about CRKEY; the Register action does
        # not use CRKEY, so a registered host keeps its key.
        state = registered(('a', KA))
        self.assertIs(S.CONFLICT, state.register('a', 0, KB))
        self.assertIs(S.CONFLICT, state.register('a', 0, KB,
                                                 ignore_key=True))
        self.assertEqual({'a': KA}, state.registrants)
        self.assertEqual(1, state.generation)

    def test_replace_checks_the_current_key(self):
        state = registered(('a', KA))
        self.assertIs(S.CONFLICT, state.register('a', KC, KB))
        self.assertIs(S.SUCCESS, state.register('a', KA, KB))
        self.assertEqual({'a': KB}, state.registrants)

    def test_replace_ignoring_the_current_key(self):
        state = registered(('a', KA))
        self.assertIs(S.SUCCESS, state.register('a', KC, KB,
                                                ignore_key=True))
        self.assertEqual({'a': KB}, state.registrants)

    def test_replace_when_not_registered_conflicts(self):
        state = reservations.DiskReservations()
        self.assertIs(S.CONFLICT, state.register('a', KA, KB))
        self.assertIs(S.CONFLICT, state.register('a', KA, KB,
                                                 ignore_key=True))
        self.assertEqual({}, state.registrants)

    def test_new_key_zero_unregisters(self):
        state = registered(('a', KA), ('b', KB))
        self.assertIs(S.CONFLICT, state.register('a', KB, 0))
        self.assertIs(S.SUCCESS, state.register('a', KA, 0))
        self.assertEqual({'b': KB}, state.registrants)
        self.assertIs(S.SUCCESS, state.register('b', 0, 0, ignore_key=True))
        self.assertEqual({}, state.registrants)
        self.assertIs(S.CONFLICT, state.register('b', KB, 0))

    def test_holder_unregistering_releases_the_reservation(self):
        for rtype in (T.WRITE_EXCLUSIVE, T.EXCLUSIVE_ACCESS,
                      T.WRITE_EXCLUSIVE_REG_ONLY,
                      T.EXCLUSIVE_ACCESS_REG_ONLY):
            state = registered(('a', KA), ('b', KB))
            self.assertIs(S.SUCCESS, state.reserve('a', KA, rtype))
            self.assertIs(S.SUCCESS, state.register('a', KA, 0))
            self.assertIsNone(state.rtype, rtype)
            self.assertEqual(set(), state.holders())

    def test_all_registrants_reservation_lasts_while_one_is_left(self):
        state = registered(('a', KA), ('b', KB))
        self.assertIs(S.SUCCESS,
                      state.reserve('a', KA, T.WRITE_EXCLUSIVE_ALL_REGS))
        self.assertIs(S.SUCCESS, state.register('a', KA, 0))
        self.assertEqual(T.WRITE_EXCLUSIVE_ALL_REGS, state.rtype)
        self.assertEqual({'b'}, state.holders())
        self.assertIs(S.SUCCESS, state.register('b', KB, 0))
        self.assertIsNone(state.rtype)


class AcquireReleaseTestCase(testtools.TestCase):

    def test_reserve_needs_the_registered_key(self):
        state = registered(('a', KA))
        self.assertIs(S.CONFLICT, state.reserve('a', KB,
                                                T.WRITE_EXCLUSIVE))
        self.assertIs(S.CONFLICT, state.reserve('b', KA,
                                                T.WRITE_EXCLUSIVE))
        self.assertIsNone(state.rtype)

    def test_reserve_and_reserve_again(self):
        state = registered(('a', KA), ('b', KB))
        gen = state.generation
        self.assertIs(S.SUCCESS, state.reserve('a', KA, T.WRITE_EXCLUSIVE))
        self.assertEqual(('a', T.WRITE_EXCLUSIVE),
                         (state.holder, state.rtype))
        self.assertIs(S.SUCCESS, state.reserve('a', KA, T.WRITE_EXCLUSIVE))
        self.assertIs(S.CONFLICT, state.reserve('a', KA,
                                                T.EXCLUSIVE_ACCESS))
        self.assertIs(S.CONFLICT, state.reserve('b', KB,
                                                T.WRITE_EXCLUSIVE))
        # Acquire does not count a generation.
        self.assertEqual(gen, state.generation)

    def test_all_registrants_are_holders(self):
        state = registered(('a', KA), ('b', KB))
        self.assertIs(S.SUCCESS,
                      state.reserve('a', KA, T.EXCLUSIVE_ACCESS_ALL_REGS))
        self.assertEqual({'a', 'b'}, state.holders())
        self.assertIs(S.SUCCESS,
                      state.reserve('b', KB, T.EXCLUSIVE_ACCESS_ALL_REGS))
        self.assertIs(S.CONFLICT,
                      state.reserve('b', KB, T.WRITE_EXCLUSIVE_ALL_REGS))

    def test_unknown_type_is_invalid(self):
        state = registered(('a', KA))
        self.assertIs(S.INVALID, state.reserve('a', KA, 7))
        self.assertIs(S.INVALID, state.reserve('a', KA, 0))
        self.assertIs(S.INVALID, state.preempt('a', KA, KA, 9))

    def test_release_by_non_holder_succeeds_and_changes_nothing(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.SUCCESS, state.release('b', KB, T.WRITE_EXCLUSIVE))
        self.assertEqual(('a', T.WRITE_EXCLUSIVE),
                         (state.holder, state.rtype))

    def test_release_by_unregistered_host_conflicts(self):
        state = registered(('a', KA))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.CONFLICT, state.release('c', KC, T.WRITE_EXCLUSIVE))
        self.assertIs(S.CONFLICT, state.release('a', KB, T.WRITE_EXCLUSIVE))

    def test_release_with_another_type_is_invalid(self):
        state = registered(('a', KA))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.INVALID, state.release('a', KA, T.EXCLUSIVE_ACCESS))
        self.assertEqual(T.WRITE_EXCLUSIVE, state.rtype)

    def test_release_keeps_registrations(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        gen = state.generation
        self.assertIs(S.SUCCESS, state.release('a', KA, T.WRITE_EXCLUSIVE))
        self.assertIsNone(state.rtype)
        self.assertEqual({'a': KA, 'b': KB}, state.registrants)
        self.assertEqual(gen, state.generation)

    def test_any_all_registrants_holder_releases_for_all(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE_ALL_REGS)
        self.assertIs(S.SUCCESS,
                      state.release('b', KB, T.WRITE_EXCLUSIVE_ALL_REGS))
        self.assertIsNone(state.rtype)

    def test_clear(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.CONFLICT, state.clear('c', KC))
        gen = state.generation
        # Any registrant may clear, holder or not.
        self.assertIs(S.SUCCESS, state.clear('b', KB))
        self.assertEqual(({}, None, gen + 1),
                         (state.registrants, state.rtype, state.generation))


class PreemptTestCase(testtools.TestCase):

    def test_preempt_the_holder(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        gen = state.generation
        self.assertIs(S.SUCCESS,
                      state.preempt('b', KB, KA, T.WRITE_EXCLUSIVE))
        self.assertEqual(('b', T.WRITE_EXCLUSIVE, {'b': KB}, gen + 1),
                         (state.holder, state.rtype, state.registrants,
                          state.generation))

    def test_preempted_holder_reservation_takes_the_new_type(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.SUCCESS,
                      state.preempt('b', KB, KA, T.EXCLUSIVE_ACCESS))
        self.assertEqual(('b', T.EXCLUSIVE_ACCESS),
                         (state.holder, state.rtype))

    def test_preempt_with_the_holders_own_key_changes_the_type(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.SUCCESS,
                      state.preempt('a', KA, KA, T.EXCLUSIVE_ACCESS))
        self.assertEqual(('a', T.EXCLUSIVE_ACCESS, {'a': KA, 'b': KB}),
                         (state.holder, state.rtype, state.registrants))

    def test_preempt_a_non_holder_only_unregisters_it(self):
        state = registered(('a', KA), ('b', KB), ('c', KC))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.SUCCESS,
                      state.preempt('b', KB, KC, T.EXCLUSIVE_ACCESS))
        self.assertEqual(('a', T.WRITE_EXCLUSIVE, {'a': KA, 'b': KB}),
                         (state.holder, state.rtype, state.registrants))

    def test_preempt_unknown_key_conflicts(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        gen = state.generation
        self.assertIs(S.CONFLICT,
                      state.preempt('b', KB, 0x99, T.WRITE_EXCLUSIVE))
        self.assertEqual(gen, state.generation)

    def test_preempt_needs_the_callers_key(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.CONFLICT,
                      state.preempt('b', KC, KA, T.WRITE_EXCLUSIVE))
        self.assertIs(S.CONFLICT,
                      state.preempt('c', KC, KA, T.WRITE_EXCLUSIVE))
        self.assertEqual('a', state.holder)

    def test_preempt_key_zero_of_a_single_holder_is_invalid(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.INVALID, state.preempt('b', KB, 0,
                                               T.WRITE_EXCLUSIVE))

    def test_preempt_without_reservation_unregisters_victims(self):
        state = registered(('a', KA), ('b', KB))
        self.assertIs(S.SUCCESS, state.preempt('b', KB, KA,
                                               T.WRITE_EXCLUSIVE))
        self.assertEqual(({'b': KB}, None),
                         (state.registrants, state.rtype))
        self.assertIs(S.CONFLICT, state.preempt('b', KB, KA,
                                                T.WRITE_EXCLUSIVE))

    def test_preempt_all_registrants_with_zero_takes_it_alone(self):
        state = registered(('a', KA), ('b', KB), ('c', KC))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE_ALL_REGS)
        self.assertIs(S.SUCCESS, state.preempt('c', KC, 0,
                                               T.WRITE_EXCLUSIVE))
        self.assertEqual(('c', T.WRITE_EXCLUSIVE, {'c': KC}),
                         (state.holder, state.rtype, state.registrants))

    def test_preempt_all_registrants_with_a_key_unregisters_it(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE_ALL_REGS)
        self.assertIs(S.SUCCESS, state.preempt('b', KB, KA,
                                               T.WRITE_EXCLUSIVE))
        self.assertEqual((T.WRITE_EXCLUSIVE_ALL_REGS, {'b': KB}),
                         (state.rtype, state.registrants))

    def test_hosts_sharing_the_victims_key_all_go(self):
        # Why keys must be per host: one shared key makes every host the
        # victim of a preempt.
        state = registered(('a', KA), ('b', KA), ('c', KC))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.SUCCESS,
                      state.preempt('c', KC, KA, T.WRITE_EXCLUSIVE))
        self.assertEqual({'c': KC}, state.registrants)

    def test_preempt_with_a_shared_key_keeps_the_caller(self):
        state = registered(('a', KA), ('b', KA))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertIs(S.SUCCESS,
                      state.preempt('b', KA, KA, T.WRITE_EXCLUSIVE))
        self.assertEqual(('b', {'b': KA}),
                         (state.holder, state.registrants))


class AccessTestCase(testtools.TestCase):
    """Who may read and write under each reservation type."""

    # type -> (holder, other registrant, not registered): (read, write)
    RULES = {
        T.WRITE_EXCLUSIVE: ((1, 1), (1, 0), (1, 0)),
        T.EXCLUSIVE_ACCESS: ((1, 1), (0, 0), (0, 0)),
        T.WRITE_EXCLUSIVE_REG_ONLY: ((1, 1), (1, 1), (1, 0)),
        T.EXCLUSIVE_ACCESS_REG_ONLY: ((1, 1), (1, 1), (0, 0)),
        T.WRITE_EXCLUSIVE_ALL_REGS: ((1, 1), (1, 1), (1, 0)),
        T.EXCLUSIVE_ACCESS_ALL_REGS: ((1, 1), (1, 1), (0, 0)),
    }

    def test_no_reservation_allows_everyone(self):
        state = registered(('a', KA))
        for host in ('a', 'z'):
            self.assertTrue(state.may_access(host, write=True))
            self.assertTrue(state.may_access(host, write=False))

    def test_each_type(self):
        for rtype, expected in self.RULES.items():
            state = registered(('a', KA), ('b', KB))
            self.assertIs(S.SUCCESS, state.reserve('a', KA, rtype))
            found = tuple(
                (int(state.may_access(host, write=False)),
                 int(state.may_access(host, write=True)))
                for host in ('a', 'b', 'z'))
            self.assertEqual(expected, found, rtype.name)

    def test_preempted_host_loses_write_access(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        state.preempt('b', KB, KA, T.WRITE_EXCLUSIVE)
        self.assertFalse(state.may_access('a', write=True))
        self.assertTrue(state.may_access('a', write=False))
        self.assertTrue(state.may_access('b', write=True))


class ReportTestCase(testtools.TestCase):

    def test_report_shape(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('b', KB, T.WRITE_EXCLUSIVE)
        self.assertEqual({
            'generation': 2, 'type': 'WRITE_EXCLUSIVE', 'holder': 'b',
            'registrants': [
                {'host': 'a', 'key': '0x00000000000000a1',
                 'holds_reservation': False},
                {'host': 'b', 'key': '0x00000000000000b2',
                 'holds_reservation': True}]}, state.report())

    def test_round_trip_through_constructor(self):
        state = registered(('a', KA), ('b', KB))
        state.reserve('b', KB, T.EXCLUSIVE_ACCESS_REG_ONLY)
        copy = reservations.DiskReservations(
            state.generation, list(state.registrants.items()),
            state.holder, state.rtype)
        self.assertEqual(state.report(), copy.report())

    def test_drop_host(self):
        state = registered(('a', KA))
        state.reserve('a', KA, T.WRITE_EXCLUSIVE)
        self.assertTrue(state.drop_host('a'))
        self.assertFalse(state.drop_host('a'))
        self.assertEqual(({}, None, 2),
                         (state.registrants, state.rtype, state.generation))
