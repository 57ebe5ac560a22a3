"""What strategy code may import and touch: one list, read by the AST screen and by the worker.

The screen refuses code before it runs; the worker enforces the import list again at run time
and the operating system (Landlock, seccomp, rlimits) stops what both might miss.
"""

from __future__ import annotations

ALLOWED_MODULES: frozenset[str] = frozenset({
    "pandas", "numpy", "talib", "math", "statistics", "dataclasses", "typing", "functools", "itertools",
    "collections", "domain.strategy",
})
ALLOWED_SUBMODULES: frozenset[str] = frozenset({
    "collections.abc", "numpy.lib.stride_tricks", "pandas.api.types", "talib.abstract",
})

FORBIDDEN_CALLS: frozenset[str] = frozenset({
    "exec", "eval", "compile", "open", "globals", "locals", "vars", "getattr", "setattr", "delattr",
    "__import__", "input", "breakpoint", "help", "exit", "quit", "memoryview",
})
"""Builtins strategy code may not name at all (getattr included: a computed name escapes the screen)."""

ALLOWED_DUNDERS: frozenset[str] = frozenset({"__init__"})
"""`def __init__` and `super().__init__(...)` are how a strategy takes parameters."""

FORBIDDEN_ATTRIBUTES: frozenset[str] = frozenset({
    # modules reachable as attributes of pandas/numpy internals
    "os", "sys", "subprocess", "shutil", "socket", "builtins", "importlib", "io", "ctypes", "ctypeslib",
    "pickle", "marshal", "signal", "threading", "multiprocessing", "pathlib", "tempfile", "glob", "inspect",
    "gc", "weakref", "runpy", "resource", "platform", "urllib", "http", "asyncio", "select", "fcntl", "mmap",
    "posix", "pty", "shlex", "zipimport", "pkgutil", "types", "compat", "testing", "distutils", "f2py",
    "npyio", "format", "system", "popen", "spawn", "fork", "kill",
    # file and network IO of pandas and numpy
    "to_csv", "to_pickle", "to_parquet", "to_json", "to_sql", "to_excel", "to_hdf", "to_feather", "to_html",
    "to_clipboard", "to_latex", "to_markdown", "to_stata", "to_xml", "to_orc", "to_gbq", "tofile", "save",
    "savez", "savez_compressed", "savetxt", "load", "dump", "loadtxt", "fromfile", "genfromtxt", "fromregex", "memmap",
    "open_memmap", "DataSource", "HDFStore", "ExcelWriter", "ExcelFile",
    # global state and code evaluation
    "set_option", "reset_option", "option_context", "seterr", "setbufsize", "set_printoptions", "eval", "query",
    "exec", "compile", "getattr", "setattr", "register_dataframe_accessor", "register_series_accessor",
    "register_index_accessor", "register_extension_dtype",
})
"""Attribute names refused whatever object they are read from: the screen cannot know types."""

FORBIDDEN_ATTRIBUTE_PREFIXES: tuple[str, ...] = ("read_", "_")
"""`pd.read_*` fetch files and URLs; a leading underscore is some library's internals (allowed on self)."""
