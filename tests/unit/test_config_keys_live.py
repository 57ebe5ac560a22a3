"""Every key of config/config.yaml is read by the code: a key nothing reads is a promise the system breaks.

The proof is static, over the production packages (domain, application, adapters, entrypoints)
without entrypoints/settings/, which only declares the keys. A key `...owner.name` is read when
one file has `<expr>.owner.name`, or `var.name` where that file binds `var` to `<expr>.owner`: by
assignment (`risk = settings.risk`, `c, b = s.classification, s.backtesting`), by a loop over a map
of sections (`for name, config in ....ai_providers.items()`), or as a parameter annotated with the
owner's model class. In a map of sections (generation.ai_providers) the entry's name is live when
the map is read, and every field of the value model is checked for each entry, set or not. Keys
read another way are listed in READ_ELSEWHERE with where and how; that list stays small.
"""

from __future__ import annotations

import ast
import copy
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from entrypoints.settings import ConfigError, Settings, load_settings
from entrypoints.settings.loader import _RETIRED
from entrypoints.settings.models import GenerationSettings, LoggingSettings, ProviderSettings

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "config.yaml"
PRODUCTION = ("domain", "application", "adapters", "entrypoints")
DECLARATIONS = REPO / "entrypoints" / "settings"

READ_ELSEWHERE: dict[str, str] = {}
"""Dotted key -> where and how it is read when the attribute rule cannot see it (getattr, model_dump ...)."""

TEMPORARY: dict[str, str] = {}
"""TEMPORARY: key -> the change that will read it; each entry must go as soon as its reader lands."""


@dataclass(frozen=True)
class Key:
    path: tuple[str, ...]
    owner: str | None
    """The field whose section holds the key (`optimization`, `ai_providers`); None at the top level."""

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass
class Walk:
    keys: list[Key] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    """Keys of the file that are not fields of the model."""


def _section(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _entries(annotation: Any) -> type[BaseModel] | None:
    """The value model of a `dict[str, Section]` field, else None."""
    if typing.get_origin(annotation) is not dict:
        return None
    return _section(typing.get_args(annotation)[1])


def walk(raw: Mapping[str, Any], model: type[BaseModel], path: tuple[str, ...] = (),
         owner: str | None = None, into: Walk | None = None) -> Walk:
    """Every key of `raw` as the model reads it: sections are entered, anything else is a key."""
    found = into if into is not None else Walk()
    for name, value in raw.items():
        here = (*path, str(name))
        spec = model.model_fields.get(str(name))
        if spec is None:
            found.unknown.append(".".join(here))
            continue
        section, entries = _section(spec.annotation), _entries(spec.annotation)
        if section is not None and isinstance(value, Mapping):
            walk(value, section, here, str(name), found)
            continue
        found.keys.append(Key(here, owner))
        if entries is not None and isinstance(value, Mapping):
            for entry, fields in value.items():
                given = dict(fields) if isinstance(fields, Mapping) else {}
                walk({**dict.fromkeys(entries.model_fields), **given}, entries, (*here, str(entry)), str(name), found)
    return found


def model_classes(model: type[BaseModel], into: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """Section class name -> the field names it is the model of (a parameter annotated with it binds them)."""
    found = into if into is not None else {}
    for name, spec in model.model_fields.items():
        inner = _section(spec.annotation) or _entries(spec.annotation)
        if inner is not None:
            found.setdefault(inner.__name__, set()).add(name)
            model_classes(inner, found)
    return found


def _source(node: ast.expr) -> str | None:
    """The field an expression stands for: `x.optimization` -> optimization; `m["claude"]`, `m.get(k)` -> m's."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _source(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return _source(node.func.value)
    return None


def _annotation_name(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class FileReads(ast.NodeVisitor):
    """What one module reads: `owner.name` chains and `var.name` with `var` bound to an owner."""

    def __init__(self, classes: Mapping[str, set[str]]) -> None:
        self.classes = classes
        self.attrs: set[str] = set()
        self.chains: set[tuple[str, str]] = set()
        self.on_names: set[tuple[str, str]] = set()
        self.bound: dict[str, set[str]] = {}

    def reads(self, key: Key) -> bool:
        name = key.path[-1]
        if key.owner is None:
            return name in self.attrs
        return (key.owner, name) in self.chains or any(
            key.owner in self.bound.get(var, ()) for var, attr in self.on_names if attr == name)

    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            source = _source(value)
            if source is not None:
                self.bound.setdefault(target.id, set()).add(source)
        elif isinstance(target, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List) \
                and len(target.elts) == len(value.elts):
            for one, other in zip(target.elts, value.elts, strict=True):
                self._bind(one, other)

    def _bind_loop(self, target: ast.expr, iterable: ast.expr) -> None:
        """`for v in m.values()` and `for k, v in m.items()` bind `v` to the map `m`."""
        if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute)):
            return
        if iterable.func.attr == "items" and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            target = target.elts[1]
        elif iterable.func.attr != "values":
            return
        source = _source(iterable.func.value)
        if isinstance(target, ast.Name) and source is not None:
            self.bound.setdefault(target.id, set()).add(source)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.attrs.add(node.attr)
        if isinstance(node.value, ast.Attribute):
            self.chains.add((node.value.attr, node.attr))
        elif isinstance(node.value, ast.Name):
            self.on_names.add((node.value.id, node.attr))
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._bind(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, node.value)
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self._bind(node.target, node.value)
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self._bind_loop(node.target, node.iter)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._bind_loop(node.target, node.iter)
        self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> None:
        for owner in self.classes.get(_annotation_name(node.annotation) or "", ()):
            self.bound.setdefault(node.arg, set()).add(owner)
        self.generic_visit(node)


def reads_of(sources: Mapping[str, str], classes: Mapping[str, set[str]]) -> dict[str, FileReads]:
    found: dict[str, FileReads] = {}
    for name, text in sources.items():
        reads = FileReads(classes)
        reads.visit(ast.parse(text, filename=name))
        found[name] = reads
    return found


def production_sources() -> dict[str, str]:
    files = (path for package in PRODUCTION for path in sorted((REPO / package).rglob("*.py"))
             if DECLARATIONS not in path.parents)
    return {str(path.relative_to(REPO)): path.read_text(encoding="utf-8") for path in files}


def unread(keys: Iterable[Key], reads: Mapping[str, FileReads], allowed: Iterable[str] = ()) -> list[str]:
    skip = set(allowed)
    return sorted({key.dotted for key in keys
                   if key.dotted not in skip and not any(r.reads(key) for r in reads.values())})


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return raw


@pytest.fixture(scope="module")
def production() -> dict[str, FileReads]:
    return reads_of(production_sources(), model_classes(Settings))


def test_every_key_of_the_shipped_config_is_a_setting(shipped: dict[str, Any]) -> None:
    assert walk(shipped, Settings).unknown == []
    load_settings(CONFIG, env={}, dotenv_path=CONFIG.parent / "none.env")


def test_every_setting_is_in_the_shipped_config(shipped: dict[str, Any]) -> None:
    """So walking the file walks every setting: a key the model has but the file hides is checked too."""
    def missing(raw: Mapping[str, Any], model: type[BaseModel], path: str) -> list[str]:
        gaps = []
        for name, spec in model.model_fields.items():
            if name not in raw:
                gaps.append(f"{path}{name}")
            elif (section := _section(spec.annotation)) is not None:
                gaps += missing(raw[name], section, f"{path}{name}.")
        return gaps

    assert missing(shipped, Settings, "") == []


def test_every_key_of_the_shipped_config_is_read_by_the_code(shipped: dict[str, Any],
                                                             production: dict[str, FileReads]) -> None:
    keys = walk(shipped, Settings).keys
    dead = unread(keys, production, {**READ_ELSEWHERE, **TEMPORARY})
    assert dead == [], f"no production code reads {dead}: wire each key or remove it (and retire it in the loader)"


def test_the_exception_lists_name_real_keys_that_still_need_them(shipped: dict[str, Any],
                                                                 production: dict[str, FileReads]) -> None:
    keys = {key.dotted: key for key in walk(shipped, Settings).keys}
    listed = {**READ_ELSEWHERE, **TEMPORARY}
    assert sorted(set(listed) - set(keys)) == [], "an exception names a key the config no longer has"
    assert all(reason.strip() for reason in listed.values())
    now_read = [name for name in TEMPORARY if not unread([keys[name]], production)]
    assert now_read == [], f"{now_read} are read now: take them off TEMPORARY"


def test_the_walk_reports_a_planted_key_the_model_does_not_have(shipped: dict[str, Any]) -> None:
    planted = copy.deepcopy(shipped)
    planted["logging"]["rotate_hourly"] = True
    planted["generation"]["ai_providers"]["gemini"]["region"] = "eu"
    assert walk(planted, Settings).unknown == ["generation.ai_providers.gemini.region", "logging.rotate_hourly"]


class PlantedLogging(LoggingSettings):
    rotate_hourly: bool = False


class PlantedProvider(ProviderSettings):
    region: str = ""


class PlantedGeneration(GenerationSettings):
    ai_providers: dict[str, PlantedProvider] = {}  # type: ignore[assignment]  # a planted value model


class PlantedSettings(Settings):
    logging: PlantedLogging = PlantedLogging()
    generation: PlantedGeneration = PlantedGeneration()


def test_a_planted_setting_that_nothing_reads_is_reported(shipped: dict[str, Any],
                                                          production: dict[str, FileReads]) -> None:
    """The provider's `region` is set by no entry: a field of a map's value model is checked for every entry."""
    planted = copy.deepcopy(shipped)
    planted["logging"]["rotate_hourly"] = True
    found = walk(planted, PlantedSettings)
    assert found.unknown == []
    dead = unread(found.keys, production, {**READ_ELSEWHERE, **TEMPORARY})
    assert dead == [f"generation.ai_providers.{name}.region" for name in ("claude", "codex", "gemini")] + [
        "logging.rotate_hourly"]


def test_a_read_counts_only_through_the_keys_own_section() -> None:
    classes = model_classes(PlantedSettings)
    key = Key(("logging", "rotate_hourly"), "logging")
    provider = Key(("generation", "ai_providers", "deepseek", "region"), "ai_providers")

    def proven(text: str, which: Key = key) -> bool:
        return not unread([which], reads_of({"m.py": text}, classes))

    assert proven("def f(s):\n    return s.logging.rotate_hourly\n")
    assert proven("def f(s):\n    log = s.logging\n    return log.rotate_hourly\n")
    assert proven("def f(log: PlantedLogging):\n    return log.rotate_hourly\n")
    assert proven("for name, p in s.generation.ai_providers.items():\n    p.region\n", provider)
    assert proven("p = s.generation.ai_providers['deepseek']\np.region\n", provider)
    assert not proven("def f(s):\n    return s.rotate_hourly\n")
    assert not proven("def f(s):\n    other = s.trading\n    return other.rotate_hourly\n")
    assert not proven("for name, p in s.trading.items():\n    p.region\n", provider)


@pytest.mark.parametrize("retired", sorted(_RETIRED))
def test_a_retired_key_is_gone_and_names_what_to_do(tmp_path: Path, retired: tuple[str, ...]) -> None:
    section, name = retired
    assert name not in Settings.model_fields[section].annotation.model_fields  # type: ignore[union-attr]
    path = tmp_path / "config.yaml"
    path.write_text(f"{section}:\n  {name}: x\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={}, dotenv_path=tmp_path / "none.env")
    assert [str(p) for p in caught.value.problems] == [f"{section}.{name}: {_RETIRED[retired]} (line 2)"]
