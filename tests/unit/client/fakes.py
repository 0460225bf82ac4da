"""Small fakes for the EBS client's unit tests: SDK errors and answers."""

from alibabacloud_tea_openapi import exceptions as openapi_exceptions
from darabonba import exceptions as dara_exceptions
from darabonba.policy import retry as dara_retry
from oslo_config import cfg
from oslo_config import fixture as config_fixture

from cinder_ebs_driver import options

GROUP = 'ebs_unit'
SECRET = 'S3cr3t-Acc3ss-K3y-S3cr3t-0123456789'


def make_conf(test, **overrides):
    """A config group with the driver's options, as a backend sees it."""
    conf = cfg.ConfigOpts()
    conf.register_opts(options.ebs_opts, group=GROUP)
    fixture = test.useFixture(config_fixture.Config(conf))
    values = dict(ebs_endpoint='127.0.0.1:9', ebs_protocol='http',
                  ebs_region_id='emu-region-1', ebs_zone_id='emu-zone-a',
                  ebs_access_key_id='AKIDUNITTEST',
                  ebs_access_key_secret=SECRET,
                  ebs_api_retries=3, ebs_api_retry_interval=0.0,
                  ebs_state_poll_interval=0.01, ebs_state_timeout=1)
    values.update(overrides)
    fixture.config(group=GROUP, **values)
    return getattr(conf, GROUP)


def client_error(code, message='Something is wrong.', status=400,
                 request_id='REQ-0001', cls=None, **kw):
    """What the SDK raises for an ECS error answer."""
    if cls is None:
        cls = (openapi_exceptions.ServerException if status >= 500
               else openapi_exceptions.ClientException)
    data = {'Code': code, 'Message': message, 'RequestId': request_id}
    return cls(status_code=status, code=code,
               message='code: %s, %s request id: %s' % (status, message,
                                                        request_id),
               data=data, request_id=request_id, **kw)


def throttled(retry_after=None, code='Throttling.User'):
    if retry_after is not None:
        return client_error(
            code, 'Request was denied due to user flow control.',
            cls=openapi_exceptions.ThrottlingException,
            retry_after=retry_after)
    return client_error(code, 'Request was denied due to user flow '
                              'control.')


def unanswered(inner=None):
    """What the SDK raises when no answer could be read."""
    if inner is None:
        inner = dara_exceptions.RetryError(
            "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries "
            "exceeded (Caused by NewConnectionError: [Errno 111] "
            "Connection refused)")
    context = dara_retry.RetryPolicyContext(retries_attempted=1,
                                            exception=inner)
    return dara_exceptions.UnretryableException(context)


class Body(object):
    def __init__(self, body):
        self._body = body

    def to_map(self):
        return dict(self._body)


class Response(object):
    def __init__(self, body):
        self.body = Body(body)
        self.status_code = 200


class FakeSDK(object):
    """Stands for the ECS SDK client: scripted answers per method.

    ``script(name, *outcomes)``: each outcome is a dict (an answer body,
    RequestId added), an exception (raised) or a callable (called with the
    request, its result handled the same way).  The last outcome repeats.
    ``calls`` records (method name, request map).
    """

    def __init__(self):
        self._scripts = {}
        self.calls = []

    def script(self, name, *outcomes):
        self._scripts[name] = list(outcomes)

    def count(self, name):
        return len([c for c in self.calls if c[0] == name])

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)

        def method(request):
            self.calls.append((name, {
                key: value for key, value in request.to_map().items()
                if value not in (None, [], {})}))
            outcomes = self._scripts.get(name)
            if not outcomes:
                raise AssertionError('unexpected SDK call %s' % name)
            outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
            if callable(outcome) and not isinstance(outcome, Exception):
                outcome = outcome(request)
            if isinstance(outcome, Exception):
                raise outcome
            body = dict(outcome)
            body.setdefault('RequestId', 'REQ-%04d' % len(self.calls))
            return Response(body)
        return method


class FakeClock(object):
    """A monotonic clock that only moves when something sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
