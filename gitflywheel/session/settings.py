"""The store's settings (`gitflywheel config`): the model, its keys, and the TOML file.

Every writer of a store shares them: they live in `gitflywheel.toml` at the root of
`main`'s tree, one commit per change (`storage.commits.config_message`), so `git log`
is their audit trail. Settings of one machine (a remote with credentials, a signing
key) stay in the store's git config, never here: everything in the store is public
once pushed.

The file is read with `tomllib` and written by `dumps_settings`, a small deterministic
writer for this flat model (sections in the order of `KEYS`, strings as TOML basic
strings, arrays one value a line), so that a value set twice makes the same bytes and
`verify` can hold the file to the one form gitflywheel writes. Pure, no I/O.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from ..errors import InputError
from ..escape import has_hidden_controls
from ..storage.layout import SETTINGS_FILE
from ..storage.signing import TrustedSigner, parse_trusted_signer

__all__ = [
    "KeySpec",
    "KEYS",
    "Value",
    "SiteSettings",
    "PrivacySettings",
    "NamesSettings",
    "TrustSettings",
    "StoreSettings",
    "check_value",
    "parse_settings",
    "dumps_settings",
    "merge_settings",
    "SettingsConflict",
]

Value = str | tuple[str, ...] | None  # a key's value: text, several texts, or not set

MAX_TEXT = 2000  # characters of one value
MAX_PATTERN = 500  # characters of one private pattern
MAX_TITLE = 200
MAX_VALUES = 200  # values of one multi-valued key


@dataclass(frozen=True)
class KeySpec:
    """One setting: its key (`section.name`), whether it holds several values, and what
    it means (README and `config --help` say the same)."""

    key: str
    multi: bool
    help: str

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]


KEYS: dict[str, KeySpec] = {
    spec.key: spec
    for spec in (
        KeySpec(
            "site.base_url",
            False,
            "the site's address, an http(s) URL with a host and no credentials, query or "
            "fragment (https://me.codeberg.page/flywheel/)",
        ),
        KeySpec("site.title", False, "the site's title: one line of text"),
        KeySpec(
            "privacy.private",
            True,
            "a regular expression (Python syntax) of text that never leaves: removed from "
            "each record at ingest; one value per pattern, added with --add. The patterns "
            "themselves are public once pushed: write them so they do not spell out the secret",
        ),
        KeySpec(
            "names.repo",
            True,
            "FROM=TO: show the repository FROM under the name TO (FROM= : do not name it); "
            "one value per repository",
        ),
        KeySpec(
            "names.agent",
            True,
            "FROM=TO: show the agent FROM under the name TO; one value per agent",
        ),
        KeySpec(
            "names.agent_tags",
            False,
            "true: the agent is a tag of every artifact and a hashtag of the thread, as the "
            "repository's project is; false or unset: it is not (an agent is who worked, "
            "not what the work is about)",
        ),
        KeySpec(
            "publish.drafts",
            True,
            "a regular expression (Python syntax) matched against each session's agent id, "
            "title and session id: a session it finds is not published (the site and the "
            "blog exports leave it out, with the reason); one value per pattern",
        ),
        KeySpec(
            "trust.signers",
            True,
            "NAME KEYTYPE KEY, a line of git's allowed-signers format (me@example.org "
            "ssh-ed25519 AAAA...): from the commit that first names one, every later commit "
            "must be signed by a key trusted before it; one value per key",
        ),
    )
}


# -- the values --------------------------------------------------------------------------


def _text(value: str) -> str:
    """What every value is: text that can be written as UTF-8, one line, no control or
    invisible direction character, not too long."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid text (it cannot be written as UTF-8)") from None
    if not value:
        raise ValueError("empty")
    if len(value) > MAX_TEXT:
        raise ValueError(f"longer than {MAX_TEXT} characters")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise ValueError("holds a control character (a value is one line of text)")
    if has_hidden_controls(value):
        raise ValueError("holds an invisible direction or formatting character")
    return value


def _base_url(value: str) -> str:
    _text(value)
    if any(c.isspace() or c in "<>\"'\\" for c in value):
        raise ValueError("a URL holds no spaces, quotes, angle brackets or backslashes")
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number raises here
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL with credentials in it: the settings are public once pushed")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError("the site's address has no query or fragment")
    return value


def _title(value: str) -> str:
    _text(value)
    if not value.strip():
        raise ValueError("blank")
    if len(value) > MAX_TITLE:
        raise ValueError(f"longer than {MAX_TITLE} characters")
    return value


_REPEATS: tuple[Any, ...] = ()
_MAXREPEAT: Any = None
try:  # the parser `re` itself uses; private, so a Python without it skips this check
    _parser: Any = importlib.import_module("re._parser")
    _constants: Any = importlib.import_module("re._constants")
    _REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT)
    _MAXREPEAT = _constants.MAXREPEAT
except (ImportError, AttributeError):  # pragma: no cover - CPython 3.11 to 3.13 have it
    _parser = None


def _subpatterns(value: Any) -> Iterator[Any]:
    """The parsed subpatterns inside one node's arguments, at any depth."""
    if _parser is not None and isinstance(value, _parser.SubPattern):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _subpatterns(item)


def _unbounded_repeat(pattern: Any) -> bool:
    for op, av in pattern:
        if op in _REPEATS and av[1] == _MAXREPEAT:
            return True
        if any(_unbounded_repeat(sub) for sub in _subpatterns(av)):
            return True
    return False


def _nested_repeat(pattern: Any) -> bool:
    """Whether a repetition repeats something that repeats without bound, `(a+)+` or
    `(a*)*`: such a pattern can take time exponential in the text it fails on."""
    for op, av in pattern:
        if op in _REPEATS:
            low, high, body = av
            if (high == _MAXREPEAT or high > 16) and _unbounded_repeat(body):
                return True
        if any(_nested_repeat(sub) for sub in _subpatterns(av)):
            return True
    return False


def _private(value: str) -> str:
    _text(value)
    if len(value) > MAX_PATTERN:
        raise ValueError(f"a pattern longer than {MAX_PATTERN} characters")
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    if compiled.fullmatch(""):
        raise ValueError("the pattern matches empty text, so it would match everywhere")
    if _parser is not None and _nested_repeat(_parser.parse(value)):
        raise ValueError(
            "a repetition of a repetition, such as (a+)+, which can take exponential time; "
            "write it with one repetition"
        )
    return value


def _display_name(value: str) -> str:
    _text(value)
    source, sep, shown = value.partition("=")
    if not sep or not source.strip() or not shown.strip():
        raise ValueError("not FROM=TO (the name, `=`, and the name to show instead)")
    return value


def _repo_name(value: str) -> str:
    """FROM=TO, or FROM= (an empty TO): the repository is not named at all."""
    _text(value)
    source, sep, shown = value.partition("=")
    if not sep or not source.strip() or (shown and not shown.strip()):
        raise ValueError(
            "not FROM=TO (the name, `=`, and the name to show instead; nothing after `=`: "
            "do not name it)"
        )
    return value


def _signer(value: str) -> str:
    _text(value)
    parse_trusted_signer(value)
    return value


def _signer_key(value: str) -> str:
    """The key a trust.signers value names (one key, one name)."""
    return parse_trusted_signer(value).key


def _flag(value: str) -> str:
    """`true` or `false`, as `git config` writes a boolean."""
    if value not in ("true", "false"):
        raise ValueError("true or false")
    return value


_CHECKS = {
    "site.base_url": _base_url,
    "site.title": _title,
    "privacy.private": _private,
    "names.repo": _repo_name,
    "names.agent": _display_name,
    "names.agent_tags": _flag,
    "publish.drafts": _private,
    "trust.signers": _signer,
}


def _several(key: str) -> Any:
    """The check of a multi-valued key: each value, no value twice, not too many; for
    display names, no name shown two ways."""
    check = _CHECKS[key]

    def values(items: tuple[str, ...]) -> tuple[str, ...]:
        if len(items) > MAX_VALUES:
            raise ValueError(f"more than {MAX_VALUES} values")
        seen: set[str] = set()
        for number, item in enumerate(items, 1):
            try:
                check(item)
            except ValueError as exc:
                raise ValueError(f"value {number} ({item!r}): {exc}") from None
            name = item.partition("=")[0] if key.startswith("names.") else item
            if key == "trust.signers":
                name = _signer_key(item)
                if name in seen:
                    raise ValueError(f"value {number}: the key {name[:40]}... is named twice")
            if name in seen:
                what = f"{name!r} is given two names to show" if name != item else f"{item!r} twice"
                raise ValueError(what)
            seen.add(name)
        return items

    return values


def check_value(key: str, value: str) -> str:
    """One value for `key`, checked (ValueError with the reason); KeyError if the key is
    not a setting."""
    return _CHECKS[key](value)


# -- the model ---------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class SiteSettings(_Section):
    base_url: Annotated[str, AfterValidator(_base_url)] | None = None
    title: Annotated[str, AfterValidator(_title)] | None = None


class PrivacySettings(_Section):
    private: Annotated[tuple[str, ...], AfterValidator(_several("privacy.private"))] = ()


class NamesSettings(_Section):
    repo: Annotated[tuple[str, ...], AfterValidator(_several("names.repo"))] = ()
    agent: Annotated[tuple[str, ...], AfterValidator(_several("names.agent"))] = ()
    agent_tags: Annotated[str, AfterValidator(_flag)] | None = None


class PublishSettings(_Section):
    drafts: Annotated[tuple[str, ...], AfterValidator(_several("publish.drafts"))] = ()


class TrustSettings(_Section):
    signers: Annotated[tuple[str, ...], AfterValidator(_several("trust.signers"))] = ()


class StoreSettings(_Section):
    """The store's settings; every field has a default, so a store without the file has
    these. Read one with `get("site.base_url")`, all set ones with `values()`."""

    site: SiteSettings = SiteSettings()
    privacy: PrivacySettings = PrivacySettings()
    names: NamesSettings = NamesSettings()
    publish: PublishSettings = PublishSettings()
    trust: TrustSettings = TrustSettings()

    @classmethod
    def of(cls, values: Mapping[str, Value], origin: str = SETTINGS_FILE) -> StoreSettings:
        """Settings from `key -> value` (unset keys keep their defaults), validated:
        InputError naming `origin`, the key and the reason otherwise."""
        nested: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            spec = KEYS.get(key)
            if spec is None:
                raise InputError(origin, key, "not a setting (" + ", ".join(KEYS) + ")")
            if value is None or value == ():
                continue
            if spec.multi and not isinstance(value, tuple):
                raise InputError(origin, key, "several values: a list of texts")
            if not spec.multi and not isinstance(value, str):
                raise InputError(origin, key, "one value: a text")
            nested.setdefault(spec.section, {})[spec.name] = value
        try:
            return cls.model_validate(nested)
        except ValidationError as exc:
            error = exc.errors()[0]
            key = ".".join(str(part) for part in error["loc"][:2])
            reason = str(error["ctx"]["error"]) if "error" in error.get("ctx", {}) else error["msg"]
            raise InputError(origin, key, reason) from None

    def get(self, key: str) -> Value:
        """A key's value: a text, a tuple of texts (multi-valued keys, `()` when none), or
        None; KeyError if the key is not a setting."""
        spec = KEYS[key]
        value: Value = getattr(getattr(self, spec.section), spec.name)
        return value

    def values(self) -> dict[str, Value]:
        """Every key that is set, with its value, in the order of `KEYS`."""
        found = {key: self.get(key) for key in KEYS}
        return {key: value for key, value in found.items() if value not in (None, ())}

    def replaced(self, key: str, value: Value, origin: str = "config") -> StoreSettings:
        """These settings with `key` set to `value` (None or `()`: unset), validated."""
        return StoreSettings.of({**self.values(), key: value}, origin)

    def private_patterns(self) -> tuple[re.Pattern[str], ...]:
        """`privacy.private`, compiled, in order."""
        return tuple(re.compile(pattern) for pattern in self.privacy.private)

    def draft_patterns(self) -> tuple[re.Pattern[str], ...]:
        """`publish.drafts`, compiled, in order."""
        return tuple(re.compile(pattern) for pattern in self.publish.drafts)

    def trusted_signers(self) -> tuple[TrustedSigner, ...]:
        """`trust.signers`, parsed: who may sign the commits after these settings."""
        return tuple(parse_trusted_signer(line) for line in self.trust.signers)

    def repo_names(self) -> dict[str, str]:
        """`names.repo` as FROM -> TO."""
        return _pairs(self.names.repo)

    def agent_names(self) -> dict[str, str]:
        """`names.agent` as FROM -> TO."""
        return _pairs(self.names.agent)

    def agent_tags(self) -> bool:
        """`names.agent_tags`: whether the agent is a tag (default: it is not)."""
        return self.names.agent_tags == "true"


def _pairs(items: tuple[str, ...]) -> dict[str, str]:
    return {source: shown for source, _, shown in (item.partition("=") for item in items)}


# -- the file ----------------------------------------------------------------------------


def parse_settings(data: bytes, origin: str = SETTINGS_FILE) -> StoreSettings:
    """The settings a `gitflywheel.toml` holds; InputError naming `origin`, the key and
    the reason when it is not TOML, names an unknown key or holds a bad value."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(origin, "", f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(origin, "", f"not TOML: {exc}") from None
    values: dict[str, Value] = {}
    for section, table in document.items():
        if not isinstance(table, dict):
            raise InputError(origin, section, "not a setting: settings sit in [sections]")
        for name, value in table.items():
            key = f"{section}.{name}"
            spec = KEYS.get(key)
            if spec is None:
                raise InputError(origin, key, "not a setting (" + ", ".join(KEYS) + ")")
            if spec.multi:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise InputError(origin, key, "several values: an array of strings")
                values[key] = tuple(value)
            elif not isinstance(value, str):
                raise InputError(origin, key, "one value: a string")
            else:
                values[key] = value
    return StoreSettings.of(values, origin)


_HEADER = (
    "# The store's settings, shared by everyone who writes to it. Change them with\n"
    "# `gitflywheel config KEY VALUE`: one commit per change. Public once pushed.\n"
)


def _toml_string(text: str) -> str:
    """A TOML basic string: `"` and `\\` escaped, control characters as \\uXXXX."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def dumps_settings(settings: StoreSettings) -> bytes:
    """The file's bytes: a header, then each section with a key set, in the order of
    `KEYS`; the same settings always make the same bytes."""
    lines = [_HEADER]
    values = settings.values()
    for section in dict.fromkeys(spec.section for spec in KEYS.values()):
        keys = [spec for spec in KEYS.values() if spec.section == section and spec.key in values]
        if not keys:
            continue
        lines.append(f"\n[{section}]\n")
        for spec in keys:
            value = values[spec.key]
            if isinstance(value, tuple):
                items = "".join(f"    {_toml_string(v)},\n" for v in value)
                lines.append(f"{spec.name} = [\n{items}]\n")
            else:
                assert value is not None
                lines.append(f"{spec.name} = {_toml_string(value)}\n")
    return "".join(lines).encode("utf-8")


# -- combining two sides -----------------------------------------------------------------


class SettingsConflict(Exception):
    """Both sides changed one key differently since they parted."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


def _merge_values(key: str, base: Value, ours: Value, theirs: Value) -> Value:
    if ours == theirs or theirs == base:
        return ours
    if ours == base:
        return theirs
    if KEYS[key].multi:
        # Values are a set that each side added to or took from: keep every value one
        # side added, drop every value one side removed; ours first, then theirs' new ones.
        old = set(base or ())
        mine, other = tuple(ours or ()), tuple(theirs or ())
        removed = (old - set(mine)) | (old - set(other))
        merged = [v for v in mine if v not in removed]
        merged += [v for v in other if v not in removed and v not in merged]
        return tuple(merged)
    raise SettingsConflict(key, f"set to {ours!r} here and to {theirs!r} there")


def merge_settings(
    base: StoreSettings, ours: StoreSettings, theirs: StoreSettings
) -> StoreSettings:
    """A three-way merge, key by key: a key only one side changed takes that side's value;
    a multi-valued key both changed takes what each side added and drops what each
    removed; a single-valued key both set differently, or a merge that is not valid
    settings (a name both sides gave a different display name), is a SettingsConflict."""
    merged = {
        key: _merge_values(key, base.get(key), ours.get(key), theirs.get(key)) for key in KEYS
    }
    try:
        return StoreSettings.of(merged, "the combined settings")
    except InputError as exc:
        raise SettingsConflict(exc.field, exc.reason) from None
