"""Compile-time choice of an implementation by the *type* of a marker argument.

A training variant (skip-gram pair by pair, the ``-fast`` window block, ...)
or a corpus source (C's fixed slices, the shared queue) is a named tuple of
its own class. A function made by :func:`by_marker` is resolved when Numba
types the caller: it compiles exactly the implementation registered for the
marker's class and nothing else, so a run compiles only its own mode.

Why not pass the implementation itself: Numba cannot cache a function that
takes another jitted function as an argument (its type holds an address,
numba#6772), and a closure made by a factory is cached only when what it
captures pickles identically in every process. A marker's type is a plain
named-tuple class, so callers cache as usual, one entry per marker type.
"""
import inspect

from numba.extending import overload


def by_marker(name, implementations):
    """A function ``name(marker, ...)`` that runs ``implementations[type(marker)](marker, ...)``.

    ``implementations`` maps named-tuple classes to jitted functions with the
    same parameter names, the marker first. The chosen one is compiled in
    place (Numba's overload), with no wrapper around it. Calling the result
    from Python is an error: it exists only inside jitted code.
    """
    signatures = {str(inspect.signature(function.py_func)) for function in implementations.values()}
    if len(signatures) != 1:
        raise TypeError(f"{name}: implementations differ in their parameters: {sorted(signatures)}")
    parameters = signatures.pop()
    marker = next(iter(inspect.signature(next(iter(implementations.values())).py_func).parameters))

    def pick(marker_type):
        chosen = implementations.get(getattr(marker_type, "instance_class", None))
        return None if chosen is None else chosen.py_func

    # Numba matches an overload's parameters to its implementation's by name,
    # so the stub and the typing function are written with the implementations' own.
    namespace = {"pick": pick}
    exec(f"def {name}{parameters}:\n    raise TypeError('{name} is only callable from jitted code')\n", namespace)
    exec(f"def choose{parameters}:\n    return pick({marker})\n", namespace)
    overload(namespace[name])(namespace["choose"])
    return namespace[name]
