"""Typed access to the flat request parameters of an ECS RPC call.

The SDK sends every value as a string ('20', 'True', '["d-1"]',
'Tag.1.Key').  These helpers turn them into Python values and raise the
documented ECS error when a value is missing or malformed, so that no bad
input can reach the action code as an unexpected type.
"""

import json
import re

from ebs_emulator import exception

_TRUE = ('true', '1')
_FALSE = ('false', '0')
# Tag keys and values: ECS allows up to 20 tags per request.
MAX_TAGS = 20
_INDEXED = re.compile(r'^(?P<prefix>[A-Za-z]+)\.(?P<n>\d+)(?:\.(?P<f>\w+))?$')


class Params(object):
    """Wraps the parameter dict of one request."""

    def __init__(self, raw):
        if not isinstance(raw, dict):
            raise exception.invalid_parameter('request')
        self.raw = {}
        for key, value in raw.items():
            if not isinstance(key, str):
                raise exception.invalid_parameter(str(key))
            if isinstance(value, bytes):
                value = value.decode('utf-8', 'replace')
            if not isinstance(value, str):
                # Tolerate callers passing native values (tests, scripts).
                value = json.dumps(value) if isinstance(
                    value, (list, dict)) else str(value)
            self.raw[key] = value

    def has(self, name):
        return self.raw.get(name, '') != ''

    def str(self, name, required=False, default=None, max_len=None):
        value = self.raw.get(name)
        if value is None or value == '':
            if required:
                raise exception.missing_parameter(name)
            return default
        if max_len is not None and len(value) > max_len:
            raise exception.invalid_parameter(name, 'It is too long.')
        return value

    def choice(self, name, choices, required=False, default=None,
               error=None):
        value = self.str(name, required=required)
        if value is None:
            return default
        if value not in choices:
            raise (error() if error else exception.invalid_parameter(name))
        return value

    def int(self, name, required=False, default=None, minimum=None,
            maximum=None, error=None):
        value = self.str(name, required=required)
        if value is None:
            return default
        bad = error() if error else exception.invalid_parameter(name)
        try:
            number = int(value.strip())
        except ValueError:
            raise bad
        if minimum is not None and number < minimum:
            raise bad
        if maximum is not None and number > maximum:
            raise bad
        return number

    def bool(self, name, default=None):
        value = self.str(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise exception.invalid_parameter(name)

    def json_list(self, name, max_items=100, error=None):
        """A JSON array of strings such as DiskIds='["d-1", "d-2"]'."""
        value = self.str(name)
        if value is None:
            return None
        try:
            items = json.loads(value)
        except ValueError:
            raise exception.invalid_parameter(name)
        if not isinstance(items, list) or not all(
                isinstance(item, str) for item in items):
            raise exception.invalid_parameter(name)
        if len(items) > max_items:
            raise (error() if error else exception.invalid_parameter(name))
        return items

    def _indexed(self, prefix):
        """Map N -> {field: value} for parameters named prefix.N[.field]."""
        found = {}
        for key, value in self.raw.items():
            match = _INDEXED.match(key)
            if not match or match.group('prefix') != prefix:
                continue
            index = int(match.group('n'))
            if index < 1:
                raise exception.invalid_parameter(key)
            field = match.group('f') or ''
            found.setdefault(index, {})[field] = value
        return found

    def str_list(self, prefix, max_items=50):
        """Repeated parameters such as ResourceId.1, ResourceId.2."""
        items = self._indexed(prefix)
        if len(items) > max_items:
            raise exception.invalid_parameter(prefix + '.N')
        values = []
        for index in sorted(items):
            value = items[index].get('', '')
            if value == '':
                raise exception.invalid_parameter('%s.%d' % (prefix, index))
            values.append(value)
        return values

    def tags(self, prefix='Tag', require_value=False):
        """Tag.N.Key / Tag.N.Value pairs as an ordered list of tuples."""
        items = self._indexed(prefix)
        if len(items) > MAX_TAGS:
            raise exception.too_many_tags()
        pairs = []
        seen = set()
        for index in sorted(items):
            fields = items[index]
            if index > MAX_TAGS:
                raise exception.too_many_tags()
            key = fields.get('Key', fields.get('key'))
            value = fields.get('Value', fields.get('value'))
            if key is None and value is None:
                raise exception.invalid_parameter('%s.%d' % (prefix, index))
            validate_tag_key(key)
            if value is None:
                if require_value:
                    raise exception.invalid_tag_value()
                value = ''
            validate_tag_value(value)
            if key in seen:
                raise exception.duplicate_tag_key()
            seen.add(key)
            pairs.append((key, value))
        return pairs


def _has_url(text):
    return 'http://' in text or 'https://' in text


def validate_tag_key(key):
    if (not key or len(key) > 128 or _has_url(key) or
            key.startswith('aliyun') or key.startswith('acs:')):
        raise exception.invalid_tag_key()


def validate_tag_value(value):
    if len(value) > 128 or _has_url(value) or value.startswith('acs:'):
        raise exception.invalid_tag_value()


# Names: 2-128 characters, start with a letter (Latin or CJK), then
# letters, digits, periods, underscores, colons and hyphens.
_NAME = re.compile(r'^[A-Za-z\u4e00-\u9fa5][\w.:\-\u4e00-\u9fa5]{1,127}$',
                   re.ASCII)


def valid_name(name):
    return bool(_NAME.match(name)) and not _has_url(name)


def valid_description(text):
    return 2 <= len(text) <= 256 and not (
        text.startswith('http://') or text.startswith('https://'))
