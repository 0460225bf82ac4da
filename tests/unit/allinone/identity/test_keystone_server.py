"""Keystone's server answers one request at a time."""

import threading
import time

from oslotest import base

from ebs_allinone.identity import keystone_server


class OneAtATimeTest(base.BaseTestCase):

    def test_requests_never_overlap(self):
        running = []
        overlaps = []
        closed = []

        class Body(object):
            """A WSGI body whose chunks come while the request runs."""

            def __iter__(self):
                running.append(1)
                if len(running) > 1:
                    overlaps.append(len(running))
                time.sleep(0.01)
                yield b'a'
                yield b'b'
                running.pop()

            def close(self):
                closed.append(1)

        def app(environ, start_response):
            start_response('200 OK', [])
            return Body()

        wrapped = keystone_server.one_at_a_time(app)
        bodies = []

        def call():
            bodies.append(wrapped({}, lambda status, headers: None))

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([], overlaps)
        self.assertEqual([[b'ab']] * 8, bodies)
        self.assertEqual(8, len(closed))
