"""The small PDC scenario the protocol tests share: a task centre, five receivers, and the
helpers that open a task and answer it."""

CENTRE = (6, 2)
LOCATIONS = {"alice": (0, 0), "bob": (6, 2), "carol": (8, 6), "dave": (3, 5), "erin": (7, 0)}


def manhattan(a, b):
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def query(platform, receiver, task_id="t1", centre=CENTRE):
    """Open ``task_id`` at ``centre`` and let ``receiver`` answer it: (task, query)."""
    task = platform.open_task(task_id, centre)
    return task, receiver.respond(task)
