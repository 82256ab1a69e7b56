"""``@record``: data classes for what ``lava-run`` builds before it validates a job or starts a board.

``dataclasses`` would cost that start-up a quarter of its 80 ms budget (issue 17): importing
it imports ``inspect`` (about 10 ms), and each class compiles its methods from source text
(about 0.6 ms a class, 17 classes before a job is validated). A record declares its fields as
a dataclass does (annotations, defaults, ``field(default_factory=...)``) and gets the same
constructor (positional or keyword arguments), ``==``, ``repr`` and, with ``frozen=True``,
immutability and a hash; its methods are shared functions reading the class's field list,
so declaring a record costs next to nothing. Not supported, because nothing needs them:
``dataclasses.fields()``/``asdict()``/``replace()``, ordering, ``__post_init__``,
inheritance between records.
"""

from __future__ import annotations

from collections.abc import Callable
from reprlib import recursive_repr
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")
_REQUIRED = object()


class FrozenRecordError(AttributeError):
    """An assignment to a field of a frozen record (as ``dataclasses.FrozenInstanceError``)."""


class _Factory:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], Any]) -> Any:
    """A field whose default is made afresh for each record (a new list, dict...)."""
    return _Factory(default_factory)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    fields: tuple[tuple[str, Any], ...] = cls.__record_fields__
    if len(args) > len(fields):
        raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments but {len(args)} were given")
    for (name, _), value in zip(fields, args, strict=False):  # the rest come from kwargs or defaults
        if name in kwargs:
            raise TypeError(f"{cls.__name__}() got multiple values for argument '{name}'")
        object.__setattr__(self, name, value)
    for name, default in fields[len(args):]:
        if name in kwargs:
            value = kwargs.pop(name)
        elif default is _REQUIRED:
            raise TypeError(f"{cls.__name__}() missing required argument: '{name}'")
        else:
            value = default.make() if type(default) is _Factory else default
        object.__setattr__(self, name, value)
    if kwargs:
        raise TypeError(f"{cls.__name__}() got an unexpected keyword argument '{next(iter(kwargs))}'")


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name, _ in self.__record_fields__)


@recursive_repr()
def _repr(self: Any) -> str:
    fields = ", ".join(f"{name}={getattr(self, name)!r}" for name, _ in self.__record_fields__)
    return f"{type(self).__qualname__}({fields})"


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return hash(_values(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field '{name}' of a frozen {type(self).__name__}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field '{name}' of a frozen {type(self).__name__}")


@dataclass_transform(field_specifiers=(field,))
def record(cls: type[T] | None = None, *, frozen: bool = False) -> Any:
    """``@record`` or ``@record(frozen=True)`` on a class of annotated fields."""

    def make(cls: type[T]) -> type[T]:
        fields = []
        for name in cls.__dict__.get("__annotations__", {}):
            default = cls.__dict__.get(name, _REQUIRED)
            if fields and fields[-1][1] is not _REQUIRED and default is _REQUIRED:
                raise TypeError(f"{cls.__name__}.{name}: a field without a default follows one with a default")
            if type(default) is _Factory:
                delattr(cls, name)  # the class attribute would hide nothing, but mislead readers
            fields.append((name, default))
        methods: dict[str, Any] = {"__record_fields__": tuple(fields), "__init__": _init, "__repr__": _repr,
                                   "__eq__": _eq, "__hash__": None}
        if frozen:
            methods.update(__setattr__=_frozen_setattr, __delattr__=_frozen_delattr, __hash__=_hash)
        for name, method in methods.items():
            setattr(cls, name, method)
        return cls

    return make if cls is None else make(cls)
