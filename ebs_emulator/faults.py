"""Fault injection for the emulator's API.

A fault rule says what goes wrong for which actions, how often and how
many times::

    {"kind": "error", "actions": ["CreateDisk"], "code": "InternalError",
     "http_status": 500, "count": 2}
    {"kind": "throttle", "rate": 0.5, "seed": 7}
    {"kind": "latency", "delay": 0.3, "actions": ["AttachDisk"]}
    {"kind": "lost_response", "actions": ["CreateDisk"], "count": 1}

Kinds:

``error``
    answer with an ECS error (default ``InternalError``/500). With
    ``"phase": "after"`` the action runs first and its result is replaced
    by the error.
``throttle``
    answer with a throttling error (default ``Throttling.User``/400);
    ``retry_after`` (milliseconds) adds the ``x-acs-retry-after`` header.
``latency``
    sleep ``delay`` seconds before running the action; with ``"phase":
    "after"`` the action runs first and its answer waits (a caller that
    dies meanwhile never hears of an action that was done).
``lost_response``
    run the action, then close the connection without an answer (with
    ``"phase": "before"`` the request is dropped without running it).

Common fields: ``actions`` (list of action names, or ``"*"``/absent for
every action), ``rate`` (probability in [0, 1], default 1; drawn from a
generator seeded with ``seed`` so that runs are reproducible), ``count``
(fire at most that many times), ``skip`` (let the first N matching
requests through untouched).
"""

import random
import threading

from ebs_emulator import exception

KINDS = ('error', 'throttle', 'latency', 'lost_response')
PHASES = ('before', 'after')

# Defaults follow the Alibaba Cloud API gateway's common error codes.
KNOWN_CODES = {
    'InternalError': (
        500, 'The request processing has failed due to some unknown error, '
             'exception or failure.'),
    'ServiceUnavailable': (
        503, 'The request has failed due to a temporary failure of the '
             'server.'),
    'Throttling': (400, 'Request was denied due to request throttling.'),
    'Throttling.User': (400, 'Request was denied due to user flow control.'),
    'Throttling.Api': (400, 'Request was denied due to api flow control.'),
}
DEFAULT_ERROR_CODE = 'InternalError'
DEFAULT_THROTTLE_CODE = 'Throttling.User'

_FIELDS = frozenset(('kind', 'actions', 'action', 'rate', 'count', 'skip',
                     'seed', 'code', 'http_status', 'message', 'delay',
                     'phase', 'retry_after'))


class FaultRule(object):
    """One fault rule and its counters."""

    def __init__(self, kind, actions=None, rate=1.0, count=None, skip=0,
                 seed=None, code=None, http_status=None, message=None,
                 delay=0.0, phase=None, retry_after=None):
        if kind not in KINDS:
            raise ValueError('unknown fault kind %r (one of %s)'
                             % (kind, ', '.join(KINDS)))
        self.kind = kind
        if actions in (None, '*', ['*']):
            self.actions = None
        elif isinstance(actions, str):
            self.actions = frozenset([actions])
        elif (isinstance(actions, (list, tuple, set, frozenset))
              and all(isinstance(a, str) and a for a in actions)):
            self.actions = frozenset(actions)
        else:
            raise ValueError('actions must be "*" or a list of action names')
        self.rate = _number('rate', rate, 0.0, 1.0)
        self.count = None if count is None else int(
            _number('count', count, 0))
        self.skip = int(_number('skip', skip or 0, 0))
        self.seed = seed
        self._rng = random.Random(seed)
        self.delay = _number('delay', delay or 0.0, 0.0, 3600.0)
        if kind == 'latency' and not self.delay:
            raise ValueError('a latency fault needs a positive delay')
        default_phase = 'after' if kind == 'lost_response' else 'before'
        self.phase = phase or default_phase
        if self.phase not in PHASES:
            raise ValueError('phase must be one of %s' % ', '.join(PHASES))
        if kind == 'throttle' and self.phase != 'before':
            raise ValueError('a throttle fault always happens before the '
                             'action')
        self.retry_after = None if retry_after is None else int(
            _number('retry_after', retry_after, 1))
        if kind in ('error', 'throttle'):
            default = (DEFAULT_ERROR_CODE if kind == 'error'
                       else DEFAULT_THROTTLE_CODE)
            self.code = code or default
            known_status, known_message = KNOWN_CODES.get(
                self.code, (500 if kind == 'error' else 400,
                            'Injected fault.'))
            self.http_status = int(_number(
                'http_status', known_status if http_status is None
                else http_status, 400, 599))
            self.message = message or known_message
        else:
            self.code = self.http_status = self.message = None
        self.seen = 0
        self.fired = 0

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise ValueError('a fault rule must be a JSON object')
        unknown = set(data) - _FIELDS
        if unknown:
            raise ValueError('unknown fault field(s): %s'
                             % ', '.join(sorted(unknown)))
        data = dict(data)
        if 'action' in data:
            if 'actions' in data:
                raise ValueError('give either action or actions')
            data['actions'] = data.pop('action')
        if 'kind' not in data:
            raise ValueError('a fault rule needs a kind')
        return cls(**data)

    def matches(self, action):
        return self.actions is None or action in self.actions

    def fire(self):
        """Count one matching request; True when the fault applies to it.

        Callers hold the injector's lock.
        """
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        if self.rate < 1.0 and self._rng.random() >= self.rate:
            return False
        self.fired += 1
        return True

    def error(self):
        return exception.EcsError(self.code, self.message, self.http_status)

    def to_dict(self):
        data = {'kind': self.kind,
                'actions': sorted(self.actions) if self.actions else '*',
                'rate': self.rate, 'count': self.count, 'skip': self.skip,
                'seed': self.seed, 'phase': self.phase,
                'seen': self.seen, 'fired': self.fired}
        if self.kind == 'latency':
            data['delay'] = self.delay
        if self.code:
            data.update(code=self.code, http_status=self.http_status,
                        message=self.message)
        if self.retry_after:
            data['retry_after'] = self.retry_after
        return data


def _number(name, value, low=None, high=None):
    if isinstance(value, bool):
        raise ValueError('%s must be a number' % name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError('%s must be a number' % name)
    if (low is not None and number < low) or (
            high is not None and number > high):
        raise ValueError('%s must be within [%s, %s]' % (name, low, high))
    return number


class Plan(object):
    """What happens to one request."""

    def __init__(self):
        self.delay = 0.0
        self.delay_after = 0.0
        self.error_before = None
        self.error_after = None
        self.drop_before = False
        self.drop_after = False
        self.retry_after = None

    def __bool__(self):
        return bool(self.delay or self.delay_after or self.error_before
                    or self.error_after or self.drop_before
                    or self.drop_after)


class FaultInjector(object):
    """The set of active fault rules (thread-safe)."""

    def __init__(self, rules=()):
        self._lock = threading.Lock()
        self._rules = []
        self.set_rules(rules)

    @staticmethod
    def parse_rules(data):
        """Rules from a JSON document: a list, or {"rules": [...]}."""
        if isinstance(data, dict):
            data = data.get('rules', [data] if 'kind' in data else [])
        if not isinstance(data, list):
            raise ValueError('expected a list of fault rules')
        return [r if isinstance(r, FaultRule) else FaultRule.from_dict(r)
                for r in data]

    def set_rules(self, rules, replace=True):
        rules = self.parse_rules(list(rules))
        with self._lock:
            if replace:
                self._rules = rules
            else:
                self._rules.extend(rules)

    def clear(self):
        with self._lock:
            self._rules = []

    def describe(self):
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def plan(self, action):
        """Decide the faults for one request of ``action``."""
        plan = Plan()
        with self._lock:
            rules = [r for r in self._rules if r.matches(action)]
            for rule in rules:
                if rule.kind == 'latency' and rule.fire():
                    if rule.phase == 'after':
                        plan.delay_after += rule.delay
                    else:
                        plan.delay += rule.delay
            for rule in rules:
                if rule.phase != 'before' or rule.kind == 'latency':
                    continue
                if rule.fire():
                    if rule.kind == 'lost_response':
                        plan.drop_before = True
                    else:
                        plan.error_before = rule.error()
                        plan.retry_after = rule.retry_after
                    return plan
            for rule in rules:
                if rule.phase != 'after' or rule.kind == 'latency':
                    continue
                if rule.fire():
                    if rule.kind == 'lost_response':
                        plan.drop_after = True
                    else:
                        plan.error_after = rule.error()
                    return plan
        return plan
