"""How brownie renders custom errors and return tuples, so tests can match them exactly."""


def err(name: str, *args) -> str:
    """``Name: arg1, arg2``: addresses in lower case, bytes32 as Python ``bytes`` reprs."""
    rendered = [a.address.lower() if hasattr(a, "address") else str(a).lower() if isinstance(a, str) else str(a) for a in args]
    return f"{name}: {', '.join(rendered)}"


def plain(values) -> tuple:
    """A call's return tuple as plain Python values (brownie's Wei refuses to compare with bool)."""
    return tuple(v if isinstance(v, bool) else int(v) if isinstance(v, int) else str(v) for v in values)
