"""Command parameters declared once, read by both Typer and the lean dispatcher.

Commands annotate their parameters with `Opt(...)` and `Arg(...)` instead of `typer.Option(...)`, so the
command modules import without Typer (about 55 ms of start-up). At registration `typer_ready()` swaps these
markers for real Typer parameters; `lean.py` reads the same markers to run common invocations without Typer.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Opt:
    """An option: its flags (e.g. "--weeks", "-w") and Typer's keyword arguments (help, min, max…)."""

    __slots__ = ("decls", "kwargs")

    def __init__(self, *decls: str, **kwargs: Any) -> None:
        self.decls = decls
        self.kwargs = kwargs


class Arg:
    """A positional argument and Typer's keyword arguments."""

    __slots__ = ("kwargs",)

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


class Param:
    """What the lean dispatcher needs to know of one parameter."""

    __slots__ = ("decls", "default", "kind", "marker", "name", "required")

    def __init__(self, name: str, marker: Opt | Arg, kind: str, required: bool, default: Any) -> None:
        self.name, self.marker, self.kind, self.required, self.default = name, marker, kind, required, default
        self.decls = marker.decls if isinstance(marker, Opt) else ()


def _kind(base: Any) -> str:
    """flag, multi, int, path or text, from the annotation's type."""
    args = [arg for arg in typing.get_args(base) if arg is not type(None)] or [base]
    inner = args[0]
    if inner is bool:
        return "flag"
    if typing.get_origin(inner) is list:
        return "multi"
    if inner is int:
        return "int"
    if inner is Path:
        return "path"
    return "text"


def params(command: Callable[..., Any]) -> list[Param]:
    """The command's parameters in order, from its annotations and defaults (no `inspect` needed)."""
    hints = typing.get_type_hints(command, include_extras=True)
    code = command.__code__
    names = code.co_varnames[: code.co_argcount]
    defaults = command.__defaults__ or ()
    first_default = len(names) - len(defaults)
    result = []
    for index, name in enumerate(names):
        hint = hints[name]
        marker = next((m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Opt | Arg)), None)
        if marker is None:
            raise TypeError(f"{command.__name__}: parameter {name!r} needs an Opt or Arg annotation")
        required = index < first_default
        default = None if required else defaults[index - first_default]
        result.append(Param(name, marker, _kind(typing.get_args(hint)[0]), required, default))
    return result


def typer_ready(command: Callable[..., Any]) -> Callable[..., Any]:
    """A copy of `command` whose Opt/Arg markers are Typer's parameter objects; the original stays as it is."""
    import types

    import typer

    hints = typing.get_type_hints(command, include_extras=True)
    resolved = {}
    for name, hint in hints.items():
        metadata = getattr(hint, "__metadata__", ())
        base = typing.get_args(hint)[0] if metadata else hint
        converted = [
            typer.Option(*m.decls, **m.kwargs)
            if isinstance(m, Opt)
            else typer.Argument(**m.kwargs)
            if isinstance(m, Arg)
            else m
            for m in metadata
        ]
        resolved[name] = typing.Annotated[(base, *converted)] if converted else hint
    copy = types.FunctionType(
        command.__code__, command.__globals__, command.__name__, command.__defaults__, command.__closure__
    )
    copy.__kwdefaults__ = command.__kwdefaults__
    copy.__doc__, copy.__module__, copy.__qualname__ = (
        command.__doc__,
        command.__module__,
        command.__qualname__,
    )
    copy.__annotations__ = resolved
    return copy
