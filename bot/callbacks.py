"""Button payloads: short, versioned, built and parsed only here.

Callback data comes from the client and is never trusted: `parse` returns None for anything
malformed, and handlers check every id against the database and the person pressing. Ids are
bounded here by their columns' range, so a forged one is refused before it reaches a query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.coaching.plan import SessionLength
from bot.coaching.session import StepAction
from content.schema import Level
from storage.models import DayKind

VERSION = "1"
_INT = re.compile(r"^[0-9]{1,12}$")
# PostgreSQL's `integer`, the type of every serial id (sessions, prompts) and of a step's index: a
# larger number would make the query itself fail (integer out of range) on every forged press.
MAX_ID = 2**31 - 1
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_CODE = re.compile(r"^[0-9a-f]{8}$")  # secrets.token_hex(4)


@dataclass(frozen=True)
class StepPress:
    """A button under a step: timer, done, skip, this hurts, stop."""

    session_id: int
    step: int
    action: StepAction


@dataclass(frozen=True)
class RatePress:
    """A pain rating for a session, before ("b") or after ("a"); value None means "skip"."""

    session_id: int
    when: str
    value: int | None


@dataclass(frozen=True)
class RoutinePress:
    """Start a routine from the menu; `replace` names an open session the person chose to end."""

    routine_id: str
    replace: int | None = None


@dataclass(frozen=True)
class ContinuePress:
    """Carry on with an open session, or ("stop") end it."""

    session_id: int
    stop: bool


@dataclass(frozen=True)
class PainCheckPress:
    """After a severe rating before a routine: switch to Relax ("r", or start it when that is the routine)
    or stop for now ("x")."""

    session_id: int
    choice: str


@dataclass(frozen=True)
class SafetyPress:
    """The red-flag confirmation: stage 1 asks, stage 2 confirms with the code stage 1 handed out."""

    stage: int
    code: str = ""
    reason: str = ""


@dataclass(frozen=True)
class CheckRatingPress:
    """The answer to "Was that your pain: 6/10?": the value, or None for "no, it wasn't"."""

    value: int | None


@dataclass(frozen=True)
class LanguagePress:
    """A language chosen in /language (a code such as "es"; checked against the catalogs)."""

    language: str


@dataclass(frozen=True)
class NavPress:
    """Go to a screen: the routine menu, help or the safety card."""

    target: str


@dataclass(frozen=True)
class ReminderPress:
    """The reminder settings: on/off ("o"), a time ("h", HHMM or "x" to type one), days ("d": a, w, c),
    one day toggled ("y": 0-6, or "k" when done), time zone ("z": a zone name, or "x" to type one)."""

    action: str
    arg: str


@dataclass(frozen=True)
class PromptPress:
    """A button under a daily prompt: start ("s"), snooze 20 min ("z") or 1 h ("h"), skip today ("k"),
    or a pain rating "0"-"10"."""

    prompt_id: int
    action: str


@dataclass(frozen=True)
class DeletePress:
    """Erasing the person's data: stage 1 asks again, stage 2 (with stage 1's code) erases, 0 keeps it."""

    stage: int
    code: str = ""


@dataclass(frozen=True)
class SettingPress:
    """A personal setting: focus routine ("f"), session length ("l"), level ("v"), pictures or text only ("p");
    or skip-reason ("d")."""

    key: str
    value: str


@dataclass(frozen=True)
class InfoPress:
    """Under a step's picture: why the technique helps ("w") or its cautions ("c"); content only, no state."""

    technique_id: str
    kind: str


Press = (
    InfoPress
    | StepPress
    | RatePress
    | RoutinePress
    | ContinuePress
    | CheckRatingPress
    | LanguagePress
    | PainCheckPress
    | SafetyPress
    | NavPress
    | ReminderPress
    | PromptPress
    | DeletePress
    | SettingPress
)
SETTING_VALUES: dict[str, tuple[str, ...]] = {
    "l": tuple(SessionLength),
    "v": tuple(Level),
    "d": (DayKind.rest, DayKind.flare),
    "p": ("pics", "text"),
}
NAV_TARGETS = ("menu", "help", "safety", "reminders", "settings", "language")
_REMINDER_ARGS = {
    "o": re.compile(r"^[01]$"),
    "h": re.compile(r"^(?:[01][0-9]|2[0-3])[0-5][0-9]$|^x$"),
    "d": re.compile(r"^[awc]$"),
    "y": re.compile(r"^[0-6k]$"),
    "z": re.compile(r"^[A-Za-z][A-Za-z0-9_/+-]{0,39}$"),
}
PROMPT_ACTIONS = ("s", "z", "h", "k", *(str(v) for v in range(11)))
SAFETY_REASONS = {"c": "checked", "n": "absent"}
PAIN_CHECK_CHOICES = ("r", "x")


def encode(press: Press) -> str:
    match press:
        case StepPress(session_id, step, action):
            parts = ["s", str(session_id), str(step), action.value]
        case RatePress(session_id, when, value):
            parts = ["r", str(session_id), when, "s" if value is None else str(value)]
        case RoutinePress(routine_id, replace):
            parts = ["m", routine_id] + ([] if replace is None else [str(replace)])
        case ContinuePress(session_id, stop):
            parts = ["c", str(session_id), "x" if stop else "c"]
        case PainCheckPress(session_id, choice):
            parts = ["v", str(session_id), choice]
        case SafetyPress(stage, code, reason):
            parts = ["f", str(stage)] + ([code, reason] if stage == 2 else [])
        case LanguagePress(language):
            parts = ["l", language]
        case CheckRatingPress(value):
            parts = ["k", "n" if value is None else str(value)]
        case NavPress(target):
            parts = ["n", target]
        case ReminderPress(action, arg):
            parts = ["t", action, arg]
        case PromptPress(prompt_id, action):
            parts = ["p", str(prompt_id), action]
        case DeletePress(stage, code):
            parts = ["x", str(stage)] + ([code] if stage == 2 else [])
        case SettingPress(key, value):
            parts = ["g", key, value]
        case InfoPress(technique_id, kind):
            parts = ["i", technique_id, kind]
    data = ":".join([VERSION, *parts])
    assert len(data.encode()) <= 64, data
    return data


def _int(text: str) -> int | None:
    value = int(text) if _INT.match(text) else None
    return value if value is not None and value <= MAX_ID else None


def parse(data: object) -> Press | None:
    """The press a payload stands for, or None when it is malformed, from another version, or forged."""
    if not isinstance(data, str) or len(data) > 64:
        return None
    version, _, rest = data.partition(":")
    if version != VERSION:
        return None
    kind, *args = rest.split(":")
    try:
        return _PARSERS[kind](args)
    except (KeyError, ValueError, IndexError):
        return None


def _step(args: list[str]) -> Press | None:
    sid, step, action = args
    s, n = _int(sid), _int(step)
    return None if s is None or n is None else StepPress(s, n, StepAction(action))


def _rate(args: list[str]) -> Press | None:
    sid, when, value = args
    s = _int(sid)
    v = None if value == "s" else _int(value)
    if s is None or when not in ("b", "a") or (value != "s" and (v is None or v > 10)):
        return None
    return RatePress(s, when, v)


def _language(args: list[str]) -> Press | None:
    (language,) = args
    return LanguagePress(language) if re.fullmatch(r"[a-z]{2,3}", language) else None


def _check_rating(args: list[str]) -> Press | None:
    (value,) = args
    if value == "n":
        return CheckRatingPress(None)
    v = _int(value)
    return None if v is None or v > 10 else CheckRatingPress(v)


def _routine(args: list[str]) -> Press | None:
    if len(args) not in (1, 2) or not _ID.match(args[0]) or len(args[0]) > 40:
        return None
    replace = _int(args[1]) if len(args) == 2 else None
    if len(args) == 2 and replace is None:
        return None
    return RoutinePress(args[0], replace)


def _continue(args: list[str]) -> Press | None:
    sid, choice = args
    s = _int(sid)
    return None if s is None or choice not in ("c", "x") else ContinuePress(s, choice == "x")


def _pain_check(args: list[str]) -> Press | None:
    sid, choice = args
    s = _int(sid)
    return None if s is None or choice not in PAIN_CHECK_CHOICES else PainCheckPress(s, choice)


def _safety(args: list[str]) -> Press | None:
    if args == ["0"] or args == ["1"]:
        return SafetyPress(int(args[0]))
    stage, code, reason = args
    if stage != "2" or not _CODE.match(code) or reason not in SAFETY_REASONS:
        return None
    return SafetyPress(2, code, reason)


def _nav(args: list[str]) -> Press | None:
    (target,) = args
    return NavPress(target) if target in NAV_TARGETS else None


def _reminder(args: list[str]) -> Press | None:
    action, arg = args
    pattern = _REMINDER_ARGS.get(action)
    return ReminderPress(action, arg) if pattern is not None and pattern.match(arg) else None


def _prompt(args: list[str]) -> Press | None:
    pid, action = args
    p = _int(pid)
    return None if p is None or action not in PROMPT_ACTIONS else PromptPress(p, action)


def _delete(args: list[str]) -> Press | None:
    if args in (["0"], ["1"]):
        return DeletePress(int(args[0]))
    stage, code = args
    return DeletePress(2, code) if stage == "2" and _CODE.match(code) else None


def _setting(args: list[str]) -> Press | None:
    key, value = args
    if key == "f":
        return SettingPress(key, value) if _ID.match(value) and len(value) <= 40 else None
    return SettingPress(key, value) if value in SETTING_VALUES.get(key, ()) else None


def _info(args: list[str]) -> Press | None:
    technique_id, kind = args
    return (
        InfoPress(technique_id, kind)
        if _ID.match(technique_id) and len(technique_id) <= 40 and kind in ("w", "c")
        else None
    )


_PARSERS: dict[str, Callable[[list[str]], Press | None]] = {
    "i": _info,
    "s": _step,
    "r": _rate,
    "m": _routine,
    "c": _continue,
    "v": _pain_check,
    "f": _safety,
    "n": _nav,
    "k": _check_rating,
    "l": _language,
    "t": _reminder,
    "p": _prompt,
    "x": _delete,
    "g": _setting,
}


def of_kind(*kinds: type) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern that matches payloads parsing to one of `kinds`."""

    def matches(data: object) -> bool:
        return isinstance(parse(data), kinds)

    return matches
