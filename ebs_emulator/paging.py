"""The two ECS pagination styles: PageNumber/PageSize and NextToken."""

from ebs_emulator import exception

_TOKEN_PREFIX = 'emu-'


def _decode_token(token):
    try:
        if not token.startswith(_TOKEN_PREFIX):
            raise ValueError(token)
        offset = int(token[len(_TOKEN_PREFIX):])
        if offset < 0:
            raise ValueError(token)
        return offset
    except ValueError:
        raise exception.invalid_parameter('NextToken')


def paginate(params, items, max_page_size=100, max_results=500,
             token_only=False, default_limit=10, clamp_results=False):
    """Return (items of the requested page, pagination fields).

    :param items: a list, or a database query (counted and sliced by the
        database: only the page is loaded).
    :param clamp_results: a MaxResults out of [default_limit, max_results]
        reads as the nearest bound (DescribeDisks) instead of being
        refused.
    """
    total = items.count() if hasattr(items, 'statement') else len(items)
    if token_only or params.has('NextToken') or params.has('MaxResults'):
        if clamp_results:
            limit = params.int('MaxResults', default=default_limit)
            limit = min(max(limit, default_limit), max_results)
        else:
            limit = params.int('MaxResults', default=default_limit,
                               minimum=1, maximum=max_results)
        token = params.str('NextToken')
        start = _decode_token(token) if token else 0
        page = items[start:start + limit]
        end = start + len(page)
        return page, {
            'TotalCount': total,
            'NextToken': _TOKEN_PREFIX + str(end) if end < total else '',
            'PageSize': limit,
        }
    number = params.int('PageNumber', default=1, minimum=1)
    size = params.int('PageSize', default=10, minimum=1,
                      maximum=max_page_size)
    start = (number - 1) * size
    return items[start:start + size], {
        'TotalCount': total,
        'PageNumber': number,
        'PageSize': size,
        'NextToken': '',
    }
