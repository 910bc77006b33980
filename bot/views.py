"""Every text the bot sends, with its buttons as plain data (HTML parse mode; all inserted text escaped)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from html import escape
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, get_day_names

from bot import callbacks as cb
from bot.coaching.adapt import Note, NoteKind
from bot.coaching.holds import Cue, CueKind, PhaseKind, TimerView
from bot.coaching.intents import Intent
from bot.coaching.plan import PlannedStep, estimate_minutes
from bot.coaching.ratings import Verdict
from bot.coaching.redflags import Finding
from bot.coaching.schedule import EVERY_DAY, PRESET_TIMES, WEEKDAYS, WEEKEND
from bot.coaching.session import StepAction, Summary
from bot.i18n import N_, _, ngettext
from bot.i18n import current as current_language
from content import Library
from content.emergency import Contacts
from content.lexicon import Tier
from content.schema import Routine, Technique
from content.translations import TechniqueText, translations
from storage.models import DayKind


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class KeyButton:
    """A button of a reply keyboard (under the input field); `location` asks to share one."""

    label: str
    location: bool = False


@dataclass(frozen=True)
class Attachment:
    """A file a message carries: its bytes and file name, or a file_id Telegram gave this bot before."""

    kind: Literal["photo", "animation", "document"]
    name: str
    data: bytes | None = None
    file_id: str | None = None


@dataclass(frozen=True)
class View:
    """One message: HTML text (an attachment's caption when it has one) and inline buttons, or instead of
    them a reply keyboard (`keyboard`) or the removal of the one shown (`remove_keyboard`). bot.ui sends it."""

    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    attachment: Attachment | None = None
    keyboard: list[list[KeyButton]] = field(default_factory=list)
    remove_keyboard: bool = False


def e(text: str) -> str:
    return escape(text, quote=False)


def clip(text: str, limit: int = 40) -> str:
    """A piece of what the person typed, short enough to quote back."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


COMMANDS: list[tuple[str, str]] = [
    ("stretch", N_("Start a guided routine, e.g. /stretch hips")),
    ("reminders", N_("Daily prompts: on or off, time, days, time zone")),
    ("progress", N_("Your pain chart, streaks and what helps")),
    ("settings", N_("Focus, session length and level")),
    ("pause", N_("Pause daily prompts")),
    ("resume", N_("Resume daily prompts")),
    ("cancel", N_("Stop what is going on (a routine or a question)")),
    ("report", N_("A one-page summary for your physio or doctor")),
    ("export", N_("Download everything stored about you")),
    ("delete", N_("Erase everything stored about you")),
    ("safety", N_("When to stop and get medical help")),
    ("language", N_("Change the language I speak")),
    ("privacy", N_("What I store about you, and why")),
    ("help", N_("What I can do")),
    ("start", N_("Welcome and how Limber works")),
]


def commands() -> list[tuple[str, str]]:
    """The command menu in the language being spoken."""
    return [(name, _(text)) for name, text in COMMANDS]


def bot_description() -> str:
    return _(
        "Limber guides gentle stretches for low back and hip pain, step by step with a timer, and asks "
        "how your pain is before and after. It is not a doctor: it shows the warning signs that need "
        "help now, and you can stop at any moment. /privacy says what it stores."
    )


def bot_short_description() -> str:
    return _("Gentle, guided stretches for low back and hip pain. Not medical advice.")


def privacy() -> View:
    return View(
        _(
            "🔒 <b>Your privacy</b>\n\n"
            "<b>What I store</b>: your Telegram id and first name, the pain ratings you give, your routines and "
            "how each step went, your answers about warning signs, your reminder times, time zone, language and "
            "settings.\n\n"
            "<b>Why</b>: to coach you, to adapt your routines, and to show you your progress. Nothing else: no "
            "advertising, no selling, no sharing with anyone.\n\n"
            "<b>For how long</b>: until you erase it. Technical records of delivered messages are kept for two "
            "days only.\n\n"
            "<b>Who can see it</b>: you, through this chat. The people who run this Limber server can reach its "
            "database to keep it working; they do not read it for any other purpose.\n\n"
            "<b>Your choices</b>: /export sends you everything stored about you (spreadsheet and JSON files); "
            "/report makes a one-page summary you can give your physio or doctor; /delete erases everything, "
            "with a second tap to confirm. Warning-sign answers are health data: they are erased with the rest."
        ),
        [nav_row()],
    )


def language_menu(current: str, languages: list[str]) -> View:
    return View(
        _("Which language should I speak?"),
        [
            [Button(("• " if lang == current else "") + language_name(lang), cb.encode(cb.LanguagePress(lang)))]
            for lang in languages
        ],
    )


def language_name(language: str) -> str:
    """A language's name in itself ("español", "русский"), as a person looks for it."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def language_set(language: str) -> View:
    return View(_("Done: I'll speak {language} from now on.").format(language=e(language_name(language))), [nav_row()])


# Every warning sign Limber reads, in the words the person sees (NICE NG59, the NHS). Older keys are
# kept so that a report still names what was flagged before the categories were split.
WARNING_SIGNS: dict[str, str] = {
    "urinary": N_("new trouble passing urine, or not feeling your bladder fill"),
    "incontinence": N_("losing control of your bladder or bowels"),
    "saddle": N_("numbness or tingling between your legs, around your genitals or bottom (the saddle area)"),
    "sexual": N_("new problems with erections or with feeling during sex"),
    "both_legs": N_("sciatica, numbness, tingling or weakness in both legs"),
    "legs_giving_way": N_("legs giving way"),
    "progressive_weakness": N_("weakness that is getting worse, or a foot that drags or flops"),
    "fever": N_("a fever, or feeling hot and shivery"),
    "cancer": N_("a history of cancer, with new back pain"),
    "weight_loss": N_("losing weight without trying"),
    "night_pain": N_("pain that is constant or wakes you at night, and is not eased by rest or any position"),
    "trauma": N_("back pain after a fall, accident or sports injury"),
    "immune": N_("long-term steroids, a weakened immune system, or injecting drugs"),
    "bladder_bowel": N_("changes in bladder or bowel control"),
    "injury": N_("pain after a fall, accident or injury"),
}


def describe_signs(categories: list[str] | tuple[str, ...]) -> list[str]:
    return [_(WARNING_SIGNS[c]) if c in WARNING_SIGNS else c for c in categories]


def _emergency_number(contacts: Contacts | None) -> str:
    if contacts is None:
        return _("your emergency number (999 in the UK, 911 in North America, 112 in the EU)")
    return e(contacts.emergency)


def _department(contacts: Contacts | None) -> str:
    return e(contacts.department) if contacts and contacts.department else _("the emergency department")


def safety_card(contacts: Contacts | None = None) -> str:
    """Every warning sign of both tiers, short enough for a phone; `contacts` where the country is known."""
    urgent = (
        _("your GP or {line}").format(line=e(contacts.urgent))
        if contacts and contacts.urgent
        else _("your GP or an urgent-advice line such as 111")
    )
    return _(
        "🚨 <b>Call {number} or go to {department} now</b> if you have, with back pain:\n"
        "• new trouble peeing, or not feeling your bladder fill\n"
        "• leaking, or losing control of your bladder or bowels\n"
        "• numbness or tingling between your legs or around your genitals or bottom (the saddle area)\n"
        "• new problems with erections or feeling during sex\n"
        "• sciatica, numbness or weakness in <b>both</b> legs, or legs giving way\n"
        "• weakness that is getting worse, or a foot that drags\n\n"
        "⚠️ <b>See a doctor today</b> ({urgent}) if you have back pain with:\n"
        "• a fever, or feeling hot and shivery\n"
        "• a history of cancer\n"
        "• weight loss without trying\n"
        "• pain that is constant or wakes you at night and nothing eases\n"
        "• a fall, accident or sports injury\n"
        "• long-term steroids, a weak immune system, or injecting drugs\n\n"
        "<b>Stop the stretch</b> if you feel sharp, shooting or worsening pain. Mild stretching "
        "discomfort is fine; pain is not. You can stop any routine at any moment with ⏹ Stop or /cancel."
    ).format(number=_emergency_number(contacts), department=_department(contacts), urgent=urgent)


def nav_row() -> list[Button]:
    return [
        Button(_("🧘 Routines"), cb.encode(cb.NavPress("menu"))),
        Button(_("❓ Help"), cb.encode(cb.NavPress("help"))),
    ]


def welcome(first_name: str) -> View:
    name = f", {e(clip(first_name, 30))}" if first_name.strip() else ""
    text = _(
        "Hi{name}! I'm <b>Limber</b>, a stretching coach for low back and hip pain.\n\n"
        "I guide you through short routines step by step, with a timer, and ask how your pain is "
        "before and after so you can see what helps.\n\n"
        "<i>I am not a doctor and this is not medical advice.</i> I can't diagnose anything and "
        "stretching is no cure. If your pain is new, severe or getting worse, please see a clinician.\n\n"
        "{card}\n\n"
        "/privacy says what I store and how to take it with you or erase it."
    ).format(name=name, card=safety_card())
    return View(
        text,
        [
            [Button(_("🧘 Start a routine"), cb.encode(cb.NavPress("menu")))],
            [Button(_("⏰ Daily reminder"), cb.encode(cb.NavPress("reminders")))],
            [Button(_("❓ How it works"), cb.encode(cb.NavPress("help")))],
        ],
    )


def safety(contacts: Contacts | None = None) -> View:
    return View(safety_card(contacts), [nav_row()])


def help_view() -> View:
    lines = [f"/{name} — {e(text)}" for name, text in commands()]
    areas = ", ".join(f"<code>{e(name)}</code>" for name in AREA_WORDS())
    text = (
        _("<b>What I can do</b>")
        + "\n"
        + "\n".join(lines)
        + "\n\n"
        + _(
            "<b>Pain ratings</b>: send a number from 0 (no pain) to 10 (worst imaginable) at any time, "
            'e.g. "4" or "pain 4/10", and I\'ll note it.\n'
            "<b>During a routine</b>: tap ▶ Start timer for a live countdown, ✅ Done or ⏭ Skip to move on, "
            "😣 This hurts if a stretch causes pain, and ⏹ Stop whenever you want to end."
        )
        + f"\n\n{_(STAY_ACTIVE)}\n\n"
        + _("Areas: {areas}").format(areas=areas)
    )
    return View(
        text,
        [
            [
                Button(_("🧘 Routines"), cb.encode(cb.NavPress("menu"))),
                Button(_("🛑 Safety card"), cb.encode(cb.NavPress("safety"))),
            ]
        ],
    )


def AREA_WORDS() -> list[str]:
    """What to type after /stretch, in the language being spoken."""
    return [
        _("hips"), _("low back"), _("glutes"), _("hamstrings"), _("core"), _("relax"), _("quick")
    ]  # fmt: skip


def minutes_text(minutes: int) -> str:
    return ngettext("{n} min", "{n} min", minutes).format(n=minutes)


def steps_text(count: int) -> str:
    return ngettext("{n} step", "{n} steps", count).format(n=count)


def menu(library: Library, note: str = "", minutes_of: dict[str, int] | None = None) -> View:
    """The routines; `minutes_of` gives each one's length as the person would do it (else the standard one)."""
    buttons = []
    for routine in library.routines_in_order():
        minutes = (minutes_of or {}).get(routine.id) or estimate_minutes(_plan_of(routine.id, library))
        title = routine_title(routine)
        buttons.append([Button(f"{title} · {minutes_text(minutes)}", cb.encode(cb.RoutinePress(routine.id)))])
    lines = [f"• <b>{e(routine_title(r))}</b>: {e(routine_description(r))}" for r in library.routines_in_order()]
    head = f"{note}\n\n" if note else ""
    return View(f"{head}" + _("<b>Choose a routine</b>") + "\n" + "\n".join(lines), buttons)


def _plan_of(routine_id: str, library: Library) -> list[PlannedStep]:
    from bot.coaching.plan import build_plan

    return build_plan(library.routines[routine_id], library)


def unknown_area(typed: str, library: Library, minutes_of: dict[str, int] | None = None) -> View:
    return menu(library, _("I don't have a routine called “{typed}”.").format(typed=e(clip(typed))), minutes_of)


def did_you_mean(typed: str, routine_id: str, library: Library) -> View:
    title = routine_title(library.routines[routine_id])
    return View(
        _("I don't have a routine called “{typed}”. Did you mean <b>{title}</b>?").format(
            typed=e(clip(typed)), title=e(title)
        ),
        [
            [Button(_("▶ Start {title}").format(title=title), cb.encode(cb.RoutinePress(routine_id)))],
            [Button(_("🧘 All routines"), cb.encode(cb.NavPress("menu")))],
        ],
    )


def open_session(
    session_id: int, title: str, step: int, step_count: int, status: str, wanted: str | None, wanted_title: str | None
) -> View:
    where = {
        "rating_before": _("about to begin"),
        "pain_check": _("waiting for your choice after a high pain rating"),
        "rating_after": _("finished, waiting for your pain rating"),
    }.get(status) or _("at step {n} of {count}").format(n=step + 1, count=step_count)
    buttons = [[Button(_("▶ Continue"), cb.encode(cb.ContinuePress(session_id, stop=False)))]]
    if wanted and wanted_title:
        label = _("🔄 Start {title} instead").format(title=wanted_title)
        buttons.append([Button(label, cb.encode(cb.RoutinePress(wanted, session_id)))])
    buttons.append([Button(_("⏹ Stop it"), cb.encode(cb.ContinuePress(session_id, stop=True)))])
    return View(_("You have a routine open: <b>{title}</b>, {where}.").format(title=e(title), where=where), buttons)


def rating_buttons(session_id: int, when: str) -> list[list[Button]]:
    def b(v: int) -> Button:
        return Button(str(v), cb.encode(cb.RatePress(session_id, when, v)))

    return [
        [b(v) for v in range(0, 6)],
        [b(v) for v in range(6, 11)],
        [Button(_("Skip rating"), cb.encode(cb.RatePress(session_id, when, None)))],
    ]


def rating_before(
    session_id: int, title: str, step_count: int, minutes: int, *, note: str = "", preview: str = ""
) -> View:
    changed = _("<i>Made for you today:</i>") + f"\n{note}\n\n" if note else ""
    shown = f"{preview}\n\n" if preview else ""
    return View(
        _("<b>{title}</b>: {steps}, about {minutes}.").format(
            title=e(title), steps=steps_text(step_count), minutes=minutes_text(minutes)
        )
        + f"\n\n{shown}{changed}"
        + _(
            "Before we start: how is your pain right now, from 0 (none) to 10 (worst imaginable)? "
            "Tap a number or type it."
        ),
        rating_buttons(session_id, "b"),
    )


def carried_rating(title: str, step_count: int, minutes: int, value: int, note: str = "") -> str:
    """The head of the first step when the prompt's pain rating is the before-rating (note is HTML)."""
    changed = _("<i>Made for you today:</i>") + f"\n{note}\n" if note else ""
    return (
        _("<b>{title}</b>: {steps}, about {minutes}.").format(
            title=e(title), steps=steps_text(step_count), minutes=minutes_text(minutes)
        )
        + f"\n{changed}"
        + _("Pain before: {value}/10, from today's prompt ✓").format(value=value)
    )


def rating_after(session_id: int, stopped: bool) -> View:
    head = (
        _("Routine stopped. That's fine: stopping is always OK.")
        if stopped
        else _("🎉 That was the last step. Well done!")
    )
    return View(
        f"{head}\n\n" + _("How is your pain now, from 0 to 10? Tap a number or type it."),
        rating_buttons(session_id, "a"),
    )


def _dose(step: PlannedStep) -> str:
    each = {"both": _(" on each side"), "left": _(" on the left side"), "right": _(" on the right side")}.get(
        step.sides, ""
    )
    if step.hold_seconds and step.reps:
        return ngettext(
            "🔁 {reps} time{each}, holding {hold} s each time",
            "🔁 {reps} times{each}, holding {hold} s each time",
            step.reps,
        ).format(reps=step.reps, each=each, hold=step.hold_seconds)
    if step.reps:
        return ngettext("🔁 {reps} time{each}", "🔁 {reps} times{each}", step.reps).format(reps=step.reps, each=each)
    rest = (
        _(", resting {rest} s between sides").format(rest=step.rest_seconds)
        if step.sides == "both" and step.rest_seconds
        else ""
    )
    first = _(" (left side first)") if step.sides == "both" else ""
    return _("⏱ Hold {hold} s{each}{first}{rest}").format(hold=step.hold_seconds, each=each, first=first, rest=rest)


def short_dose(step: PlannedStep) -> str:
    each = _(" each side") if step.sides == "both" else ""
    if step.reps:
        held = _(", {hold} s holds").format(hold=step.hold_seconds) if step.hold_seconds else ""
        return ngettext("{reps} rep{each}{held}", "{reps} reps{each}{held}", step.reps).format(
            reps=step.reps, each=each, held=held
        )
    return _("{hold} s{each}").format(hold=step.hold_seconds, each=each)


def routine_preview(steps: list[PlannedStep], library: Library) -> str:
    """What a routine holds, as it will run for this person: steps and times, equipment, positions in order."""
    techniques = {
        s.technique_id: library.techniques[s.technique_id] for s in steps if s.technique_id in library.techniques
    }
    lines = [
        f"{n}. {e(technique_title(techniques[s.technique_id]) if s.technique_id in techniques else s.title)}"
        f" · {short_dose(s)}"
        for n, s in enumerate(steps, 1)
    ]
    kit = sorted({item for t in techniques.values() for item in localized_technique(t).equipment})
    positions: list[str] = []
    for s in steps:
        if s.technique_id in techniques:
            where = _(POSITIONS.get(techniques[s.technique_id].position.value, ""))
            if where and (not positions or positions[-1] != where):
                positions.append(where)
    lines.append("")
    lines.append(
        _("🧰 You need: {kit}").format(kit=e(", ".join(kit))) if kit else _("🧰 You need: nothing but some floor space")
    )
    lines.append(_("🧍 Positions: {positions}").format(positions=e(" → ".join(positions))))
    return "\n".join(lines)


def preview_caption(title: str, steps: list[PlannedStep], minutes: int, library: Library) -> str:
    head = _("👀 <b>{title}</b> · {steps}, about {minutes}").format(
        title=e(title), steps=steps_text(len(steps)), minutes=minutes_text(minutes)
    )
    return f"{head}\n\n" + routine_preview(steps, library)


def has_timer(step: PlannedStep) -> bool:
    return bool(step.hold_seconds) and not step.reps


def timer_line(view: TimerView) -> str:
    if view.finished or view.phase is None:
        return _("✅ <b>Time's up.</b> Tap ✅ Done when you're ready.")
    phase = view.phase
    if phase.kind == PhaseKind.rest:
        return _("🔄 <b>Switch sides</b>: rest and get ready for the right side, {n} s").format(n=view.remaining)
    side = {"left": _("Left side: "), "right": _("Right side: ")}.get(phase.side or "", "")
    after = ""
    if view.next_phase is not None:
        after = _(" — then switch sides") if view.next_phase.kind == PhaseKind.rest or view.next_phase.side else ""
    return _("⏳ <b>{side}{n} s left</b>{after}").format(side=side, n=view.remaining, after=after)


def cue(c: Cue) -> View:
    """The short message that sounds at a change in the countdown; the countdown itself stays above."""
    if c.kind == CueKind.rest:
        seconds = c.phase.seconds if c.phase else 0
        return View(_("🔄 <b>Switch sides</b>: rest {n} s, then the other side.").format(n=seconds))
    if c.kind == CueKind.switch:
        side = c.phase.side if c.phase and c.phase.side else ""
        return View(
            {"left": _("▶ <b>Left side now.</b>"), "right": _("▶ <b>Right side now.</b>")}.get(
                side, _("▶ <b>Other side now.</b>")
            )
        )
    return View(_("✅ <b>Time's up.</b> Tap ✅ Done when you're ready."))


def step(
    *,
    session_id: int,
    index: int,
    planned: PlannedStep,
    step_count: int,
    technique: Technique | None,
    timer: TimerView | None = None,
    note: str = "",
    pictured: bool = False,
) -> View:
    """A step's message; `pictured` is a picture's caption, with the why and the cautions behind buttons."""
    head = f"{_(note)}\n\n" if note else ""
    text = localized_technique(technique) if technique is not None else None
    title = text.title if text is not None else planned.title
    lines = ["<b>" + _("Step {n} of {count} · {title}").format(n=index + 1, count=step_count, title=e(title)) + "</b>"]
    if technique is None or text is None:
        lines.append(_("The instructions for this step are no longer available. Please skip it."))
    else:
        where = _(POSITIONS.get(technique.position.value, technique.position.value))
        kit = _(" · you need: {kit}").format(kit=e(", ".join(text.equipment))) if text.equipment else ""
        lines.append("<i>" + _("Position: {where}").format(where=e(where)) + f"{kit}</i>\n")
        lines += [f"{n}. {e(s)}" for n, s in enumerate(text.steps, 1)]
        lines.append("")
        lines.append(_dose(planned))
        if not pictured:
            lines.append("⚠️ " + " ".join(e(c) for c in text.cautions))
            lines.append(f"💡 {e(text.why)}")
    if timer is not None:
        lines.append("\n" + timer_line(timer))

    def b(label: str, action: StepAction) -> Button:
        return Button(label, cb.encode(cb.StepPress(session_id, index, action)))

    buttons = []
    if timer is None and has_timer(planned) and technique is not None:
        buttons.append([b(_("▶ Start timer"), StepAction.timer)])
    buttons.append([b(_("✅ Done"), StepAction.done), b(_("⏭ Skip"), StepAction.skip)])
    buttons.append([b(_("😣 This hurts"), StepAction.hurt), b(_("⏹ Stop"), StepAction.stop)])
    if pictured and technique is not None:
        buttons.append(
            [
                Button(_("ℹ️ Why"), cb.encode(cb.InfoPress(technique.id, "w"))),
                Button(_("⚠️ Cautions"), cb.encode(cb.InfoPress(technique.id, "c"))),
            ]
        )
    return View(head + "\n".join(lines), buttons)


POSITIONS = {
    "lying_on_back": N_("lying on your back"),
    "lying_on_front": N_("lying on your front"),
    "side_lying": N_("lying on your side"),
    "kneeling": N_("kneeling"),
    "hands_and_knees": N_("on hands and knees"),
    "seated": N_("seated"),
    "standing": N_("standing"),
}


def localized_technique(technique: Technique) -> TechniqueText:
    """A technique's texts in the language being spoken, the English where there is no translation."""
    found = translations().get(current_language())
    text = found.techniques.get(technique.id) if found else None
    return text or TechniqueText(
        title=technique.title,
        steps=list(technique.steps),
        cautions=list(technique.cautions),
        why=technique.why,
        equipment=list(technique.equipment),
    )


def technique_title(technique: Technique) -> str:
    return localized_technique(technique).title


def routine_title(routine: Routine) -> str:
    found = translations().get(current_language())
    text = found.routines.get(routine.id) if found else None
    return text.title if text else routine.title


def routine_description(routine: Routine) -> str:
    found = translations().get(current_language())
    text = found.routines.get(routine.id) if found else None
    return text.description if text else routine.description


CAPTION_LIMIT = 1024  # Telegram's, counted on the text without its HTML tags


def plain_length(html_text: str) -> int:
    return len(html.unescape(re.sub(r"<[^>]+>", "", html_text)))


def technique_info(technique: Technique, kind: str) -> View:
    """What a picture's caption leaves out: why the stretch helps (\"w\"), or its cautions (\"c\")."""
    text = localized_technique(technique)
    if kind == "w":
        return View("💡 <b>" + _("Why {title}").format(title=e(text.title)) + f"</b>\n{e(text.why)}")
    head = "⚠️ <b>" + _("Cautions · {title}").format(title=e(text.title)) + "</b>\n"
    return View(head + "\n".join(f"• {e(c)}" for c in text.cautions))


OUTCOME_LABEL = {
    StepAction.done: N_("✅ Done"),
    StepAction.skip: N_("⏭ Skipped"),
    StepAction.hurt: N_("😣 Marked as hurting"),
    StepAction.stop: N_("⏹ Stopped here"),
}


def step_closed(index: int, step_count: int, title: str, action: StepAction) -> str:
    head = _("Step {n} of {count} · {title}").format(n=index + 1, count=step_count, title=e(title))
    return f"<s>{head}</s>\n{_(OUTCOME_LABEL[action])}"


HURT_NOTE = N_(
    "😣 <b>Noted that the last stretch hurt.</b> Ease off: move less far, or leave that one out next time. "
    "If the pain is sharp or doesn't settle, stop the routine (⏹ Stop)."
)


def _minutes(seconds: int) -> str:
    if seconds >= 60:
        return _("{m} min {s} s").format(m=seconds // 60, s=seconds % 60)
    return _("{s} s").format(s=seconds)


def summary(s: Summary) -> View:
    lines = [
        "<b>"
        + _("Summary · {title}").format(title=e(s.routine_title))
        + "</b>"
        + (_(" (stopped early)") if s.stopped else "")
    ]
    parts = [_("{done} of {count} steps done").format(done=s.done, count=s.step_count)]
    if s.skipped:
        parts.append(_("{n} skipped").format(n=s.skipped))
    if s.hurt:
        parts.append(_("{n} marked as hurting").format(n=s.hurt))
    if s.not_reached:
        parts.append(_("{n} not reached").format(n=s.not_reached))
    lines.append("• " + ", ".join(parts))
    lines.append("• " + _("Time: {time}").format(time=_minutes(s.seconds)))
    change = s.change
    if change is None:
        lines.append("• " + _("Pain: not rated both before and after, so no comparison this time."))
    else:
        sign = f"{change.delta:+d}" if change.delta else _("no change")
        lines.append(
            "• " + _("Pain: {before} → {after} ({sign})").format(before=change.before, after=change.after, sign=sign)
        )
        lines.append(
            {
                Verdict.better: _("That's a meaningful drop (2 points or 30% or more). Nice work."),
                Verdict.worse: _(
                    "That's a meaningful rise (2 points or 30% or more). Go gentler next time: try the "
                    "<b>Relax</b> routine, and see a clinician if the pain keeps rising."
                ),
                Verdict.same: _(
                    "That's within the normal ups and downs (less than 2 points and 30%): "
                    "small changes are common, the trend over weeks matters more."
                ),
            }[change.verdict]
        )
    if s.hurt:
        lines.append("\n" + _("Some stretches hurt: leave those out next time or do them more gently."))
    return View("\n".join(lines), [nav_row()])


def rating_noted(value: int, context: str) -> str:
    if context == "during":
        return _("Noted: pain {value}/10 during your routine. Thank you.").format(value=value)
    return _("Noted: pain {value}/10. Thank you.").format(value=value)


PAUSED_PRESS = N_("Coaching is paused: please get checked first.")
TIMER_RUNNING = N_("The timer is already running.")
STOPPED_LINE = N_("⏹ Stopped")
STEP_ACKS = {
    StepAction.timer: N_("Timer started"),
    StepAction.hurt: N_("Noted. Ease off."),
    StepAction.stop: N_("Stopped"),
}


def step_ack(action: StepAction) -> str | None:
    """The notice a step's button shows, where it says more than the message does."""
    return _(STEP_ACKS[action]) if action in STEP_ACKS else None


def rating_ack(value: int) -> str:
    return _("Noted: {value}/10").format(value=value)


def rated_line(when: str, value: int | None) -> str:
    """What a rating question turns into once answered: "b" before the routine, "a" after it."""
    if value is None:
        return _("Rating skipped")
    text = _("Pain before: {value}/10 ✓") if when == "b" else _("Pain after: {value}/10 ✓")
    return text.format(value=value)


def snoozed(again: datetime) -> str:
    """`again`: the local time of the snoozed prompt."""
    return _("⏰ Snoozed: I'll ask again around {time}.").format(time=f"{again:%H:%M}")


def prompt_rated(value: int) -> str:
    return _("Pain today: {value}/10 ✓").format(value=value)


def check_rating(value: int) -> View:
    return View(
        _("Was that your pain: <b>{value}/10</b>?").format(value=value),
        [
            [
                Button(_("Yes, {value}/10").format(value=value), cb.encode(cb.CheckRatingPress(value))),
                Button(_("No, it wasn't"), cb.encode(cb.CheckRatingPress(None))),
            ]
        ],
    )


def which_rating(values: tuple[int, ...]) -> View:
    """Several numbers typed ("5 or 6"): one button each, never a guess."""
    if len(values) == 1:
        return check_rating(values[0])
    numbers = [Button(f"{v}/10", cb.encode(cb.CheckRatingPress(v))) for v in values]
    return View(
        _("You wrote more than one number. Which is your pain now, from 0 to 10?"),
        [numbers, [Button(_("None of these"), cb.encode(cb.CheckRatingPress(None)))]],
    )


def rating_checked(value: int | None) -> View:
    if value is None:
        return View(_("OK, I haven't noted a rating. Send a number from 0 to 10 whenever you like."))
    return View(_("Pain {value}/10 it is.").format(value=value))


def rating_out_of_range(raw: str) -> str:
    return _(
        "Pain is rated with a whole number from 0 to 10, and “{raw}” isn't one. Send a number from 0 to 10."
    ).format(raw=e(clip(raw, 12)))


def red_flag(finding: Finding, contacts: Contacts | None) -> View:
    """The answer to a described warning sign: where to go, by tier, and coaching paused."""
    found = "\n".join(f"• {e(d)}" for d in describe_signs(finding.categories))
    number = _emergency_number(contacts)
    if finding.tier is Tier.emergency:
        text = _(
            "🚨 <b>Please get emergency help now.</b>\n\n"
            "What you wrote may describe:\n{found}\n\n"
            "With back pain, this can mean pressure on the nerves at the bottom of the spine (cauda equina "
            "syndrome), which needs treatment within hours.\n\n"
            "<b>Call {number} or go to {department} now.</b> A walk-in clinic or a GP appointment is not "
            "the right place. Even if it came on slowly, please don't wait to see whether it passes."
        ).format(found=found, number=number, department=_department(contacts))
    else:
        urgent = (
            _(", or call {line}").format(line=e(contacts.urgent))
            if contacts and contacts.urgent
            else _(", or an urgent-advice line such as 111")
        )
        text = _(
            "⚠️ <b>Please contact a doctor today.</b>\n\n"
            "What you wrote may describe:\n{found}\n\n"
            "With back pain, this needs a clinician to check you today, not stretching. "
            "<b>Call your GP or doctor today</b>{urgent}. Please don't wait to see whether it passes.\n\n"
            "If you also notice any of the emergency signs on /safety, call {number} straight away."
        ).format(found=found, urgent=urgent, number=number)
    paused = _(
        "I've paused coaching. When you have been checked, or if I misread you and these are not present, "
        "tell me below."
    )
    return View(
        f"{text}\n\n{paused}", [[Button(_("I've been checked / this isn't present"), cb.encode(cb.SafetyPress(1)))]]
    )


def symptom_pointer() -> View:
    """A symptom that is not a warning sign on its own ("tingling in my left calf")."""
    return View(
        _(
            "Thanks for telling me. Tingling, numbness or sciatica in one leg is common with back pain and "
            "is not a warning sign on its own. If it is new or getting worse, or spreads to both legs or "
            "between your legs, please check /safety, and mention it to your doctor or physio.\n\n"
            "Gentle movement usually helps: /stretch for a routine."
        ),
        [nav_row()],
    )


def red_flag_confirm(code: str) -> View:
    return View(
        _("Before I resume coaching, please confirm which is true:"),
        [
            [Button(_("✅ A clinician has checked me"), cb.encode(cb.SafetyPress(2, code, "c")))],
            [Button(_("✅ I don't have these symptoms"), cb.encode(cb.SafetyPress(2, code, "n")))],
            [Button(_("Keep coaching paused"), cb.encode(cb.SafetyPress(0)))],
        ],
    )


def red_flag_cleared() -> View:
    return View(
        _("Thank you. Coaching is back on. Remember: stop at once on sharp pain or any warning sign."), [nav_row()]
    )


def coaching_paused() -> View:
    return View(
        _("⏸ Coaching is paused because you described a warning sign. Please get checked by a clinician first.")
        + "\n\n"
        + safety_card(),
        [[Button(_("I've been checked / this isn't present"), cb.encode(cb.SafetyPress(1)))]],
    )


def intent_reply(intent: Intent, first_name: str) -> View:
    """Kind, short answers to hello, thanks, a medicine question and a cure question."""
    match intent:
        case Intent.greeting:
            name = f", {e(clip(first_name, 30))}" if first_name.strip() else ""
            text = _("Hello{name}! 👋 Ready for a gentle routine? Tap below, or send your pain from 0 to 10.").format(
                name=name
            )
        case Intent.thanks:
            text = _("You're welcome! 😊 Little and often is what helps most.")
        case Intent.medicine:
            text = _(
                "I can't advise on medicines, creams or injections. A pharmacist or your doctor can: they know "
                "your health and what else you take.\n\nWhat I can do is guide gentle stretches: /stretch."
            )
        case Intent.cure:
            text = _(
                "Honestly: no. Stretching isn't a cure, and I can't promise your pain will go away. For most people "
                "back pain gets better with time, and staying active and gentle, regular movement often help you "
                "feel better and move more easily. If your pain is severe, getting worse, or not improving after a "
                "few weeks, please see a clinician."
            )
    return View(text, [nav_row()])


def not_understood() -> View:
    return View(
        _(
            "I'm a stretching coach, so I understand only a few things:\n"
            '• a pain rating from 0 to 10, like "4" or "pain 4/10"\n'
            "• /stretch to pick a routine, or /stretch hips for one area\n"
            "• /help for everything else"
        ),
        [nav_row()],
    )


def unknown_command(command: str) -> View:
    known = "\n".join(f"/{name} — {e(text)}" for name, text in commands())
    return View(
        _("I don't know the command {command}. These are the ones I know:").format(command=e(clip(command, 32)))
        + f"\n{known}",
        [nav_row()],
    )


def non_text() -> View:
    return View(_("I can only read text messages. Send a pain rating from 0 to 10, or use /stretch."), [nav_row()])


EDITED = N_("I saw you edited a message. I only act on new messages, so please send it again if you meant it.")
GROUP = N_("I coach one person at a time: please talk to me in a private chat.")
STALE_BUTTON = N_("That button is from an earlier message and no longer does anything.")
UNKNOWN_BUTTON = N_("That button isn't valid any more.")
NOTHING_TO_CANCEL = N_("There's nothing to cancel right now. /stretch starts a routine.")
CONTINUED_BELOW = N_("(continued below)")
# Answers to a press on a routine's buttons (shown by the button, not in the chat), and what the
# answered message turns into.
PAUSED_PRESS = N_("Coaching is paused: please get checked first.")
TIMER_RUNNING = N_("The timer is already running.")
TIMER_STARTED = N_("Timer started")
EASE_OFF = N_("Noted. Ease off.")
STOPPED = N_("Stopped")
STOPPED_LINE = N_("⏹ Stopped")
RATING_SKIPPED = N_("Rating skipped")


def step_answer(action: StepAction) -> str | None:
    """What the button says once a step's press is committed (nothing for done and skip)."""
    return {StepAction.timer: TIMER_STARTED, StepAction.hurt: EASE_OFF, StepAction.stop: STOPPED}.get(action)


def noted(value: int | None) -> str | None:
    return None if value is None else _("Noted: {value}/10").format(value=value)


def rated(before: bool, value: int | None) -> str:
    """What the rating message turns into once answered."""
    if value is None:
        return _(RATING_SKIPPED)
    if before:
        return _("Pain before: {value}/10 ✓").format(value=value)
    return _("Pain after: {value}/10 ✓").format(value=value)


def cancelled_before() -> View:
    return View(_("Routine cancelled before it began. Nothing was recorded."), [nav_row()])


SOMETHING_WRONG = N_("Sorry, something went wrong on my side. What you sent before this is saved; please try again.")


def did_you_mean_start(routine_id: str, library: Library) -> View:
    title = routine_title(library.routines[routine_id])
    return View(
        _("Would you like the <b>{title}</b> routine?").format(title=e(title)),
        [[Button(_("▶ Start {title}").format(title=title), cb.encode(cb.RoutinePress(routine_id)))], nav_row()],
    )


# --- daily prompts and their settings ------------------------------------------------------------


def when(at: datetime, tz_key: str) -> str:
    """A moment as the person reads it: their own zone, named, in their language's calendar words."""
    local = at.astimezone(ZoneInfo(tz_key))
    day = format_date(local.date(), "EEE dd MMM", locale=current_language())
    return _("{day} at {time} ({zone})").format(day=day, time=f"{local:%H:%M}", zone=e(tz_key))


def days_text(mask: int) -> str:
    """The days prompts come on ("every day", "Mon, Wed"), with the language's own day names."""
    if mask & EVERY_DAY == EVERY_DAY:
        return _("every day")
    if mask == WEEKDAYS:
        return _("weekdays")
    if mask == WEEKEND:
        return _("weekends")
    return ", ".join(name for bit, name in enumerate(day_names()) if mask >> bit & 1) or _("no days")


def day_names() -> list[str]:
    """Monday to Sunday, short, as the language writes them."""
    names = get_day_names("abbreviated", locale=current_language())
    return [names[i][:1].upper() + names[i][1:] for i in range(7)]


def reminders(
    *, on: bool, time_text: str | None, days: int, tz_key: str, paused: bool, next_at: datetime | None, note: str = ""
) -> View:
    state = _("on") if on else _("off")
    lines = [f"{note}\n" if note else "", "⏰ <b>" + _("Daily prompts: {state}").format(state=state) + "</b>"]
    lines.append(
        _("Time: {time} · Days: {days} · Time zone: {zone}").format(
            time=e(time_text or _("not set")), days=days_text(days), zone=e(tz_key)
        )
    )
    if paused:
        lines.append(_("⏸ Paused (/resume to restart them)."))
    if next_at is not None:
        lines.append(_("Next prompt: {when}").format(when=when(next_at, tz_key)))
    elif on and not paused:
        lines.append(_("Pick a time to get your first prompt."))
    lines.append("\n" + _("Each prompt asks how your pain is and offers today's routine. You can snooze or skip it."))

    def t(label: str, action: str, arg: str) -> Button:
        return Button(label, cb.encode(cb.ReminderPress(action, arg)))

    toggle = t(_("🔕 Turn off"), "o", "0") if on else t(_("🔔 Turn on"), "o", "1")
    presets = [t(("• " if time_text == p else "") + p, "h", p.replace(":", "")) for p in PRESET_TIMES]
    return View(
        "\n".join(line for line in lines if line is not None).lstrip("\n"),
        [
            [toggle],
            presets[:3],
            presets[3:],
            [t(_("⌨️ Other time…"), "h", "x")],
            [t(_("Every day"), "d", "a"), t(_("Weekdays"), "d", "w"), t(_("Pick days…"), "d", "c")],
            [t(_("🌍 Time zone…"), "z", "x")],
        ],
    )


def day_picker(days: int) -> View:
    row = [
        Button(("✅ " if days >> bit & 1 else "") + name, cb.encode(cb.ReminderPress("y", str(bit))))
        for bit, name in enumerate(day_names())
    ]
    return View(
        _("Tap the days you want a prompt on, then Done.") + "\n" + _("Chosen: {days}").format(days=days_text(days)),
        [row[:4], row[4:], [Button(_("Done"), cb.encode(cb.ReminderPress("y", "k")))]],
    )


ASK_TIME = N_("What time should I send your daily prompt? Type it like 7:30, 19:05 or 7pm (your local time).")
ASK_ZONE = N_(
    "Which time zone are you in? Type a city (e.g. Berlin, San Francisco) or a zone name "
    "(e.g. Europe/Berlin), or share your location with the button below (it is only used to find the zone)."
)


def half_day(first: time, second: time) -> View:
    """ "5": five in the morning or in the evening?"""

    def label(at: time) -> str:
        part = _("morning") if at.hour < 12 else (_("afternoon") if at.hour < 17 else _("evening"))
        if at.hour == 0:
            part = _("midnight")
        elif at.hour == 12:
            part = _("midday")
        return f"{at.hour:02d}:{at.minute:02d} ({part})"

    return View(
        _("Which did you mean?"),
        [
            [
                Button(label(first), cb.encode(cb.ReminderPress("h", f"{first.hour:02d}{first.minute:02d}"))),
                Button(label(second), cb.encode(cb.ReminderPress("h", f"{second.hour:02d}{second.minute:02d}"))),
            ]
        ],
    )


def bad_time(typed: str) -> str:
    return _("I couldn't read “{typed}” as a time. Try 7:30, 19:05 or 7pm, or /cancel.").format(
        typed=e(clip(typed, 20))
    )


def bad_zone(typed: str) -> str:
    return _(
        "I don't know the time zone “{typed}”. Try a big city near you, or a name like Europe/Berlin, or /cancel."
    ).format(typed=e(clip(typed, 30)))


def zone_set(screen: View) -> View:
    """The settings screen as one message that takes the location keyboard away.

    A message carries one keyboard: removing the reply keyboard leaves no room for the inline buttons,
    so the message says where they are rather than sending a second one.
    """
    text = f"{screen.text}\n\n" + _("/reminders shows the buttons to change the time, days or zone.")
    return View(text, remove_keyboard=True)


def zone_guess(typed: str, key: str) -> View:
    return View(
        _("I don't know “{typed}”. Did you mean <b>{zone}</b>?").format(typed=e(clip(typed, 30)), zone=e(key)),
        [[Button(_("Yes, {zone}").format(zone=key), cb.encode(cb.ReminderPress("z", key)))]],
    )


def prompt(prompt_id: int, title: str, steps: int, minutes: int, *, snooze: bool = False) -> View:
    head = _("⏰ Here's your snoozed reminder.") if snooze else _("☀️ Time for today's stretch.")
    text = (
        f"{head}\n"
        + _("Today's routine: <b>{title}</b> ({steps}, about {minutes}).").format(
            title=e(title), steps=steps_text(steps), minutes=minutes_text(minutes)
        )
        + "\n\n"
        + _("How is your pain today, from 0 to 10?")
    )
    return View(text, [*prompt_rating_rows(prompt_id), *prompt_action_rows(prompt_id)])


def prompt_rating_rows(prompt_id: int) -> list[list[Button]]:
    def b(v: int) -> Button:
        return Button(str(v), cb.encode(cb.PromptPress(prompt_id, str(v))))

    return [[b(v) for v in range(0, 6)], [b(v) for v in range(6, 11)]]


def prompt_action_rows(prompt_id: int) -> list[list[Button]]:
    def b(label: str, action: str) -> Button:
        return Button(label, cb.encode(cb.PromptPress(prompt_id, action)))

    return [
        [b(_("▶ Start now"), "s")],
        [b(_("⏰ In 20 min"), "z"), b(_("⏰ In 1 hour"), "h")],
        [b(_("Skip today"), "k")],
    ]


def paused_prompts(next_at: datetime | None, tz_key: str, paused: bool) -> View:
    if paused:
        return View(_("⏸ Daily prompts are paused. /resume brings them back."), [nav_row()])
    nxt = (
        " " + _("Next: {when}.").format(when=when(next_at, tz_key))
        if next_at
        else " " + _("(Daily prompts are off: /reminders to set them up.)")
    )
    return View(_("▶ Daily prompts are on again.") + nxt, [nav_row()])


# --- settings, deletion ---------------------------------------------------------------------------

LENGTHS = {"short": N_("Short (up to 4 steps)"), "normal": N_("Normal"), "long": N_("Long (holds 25% longer)")}
LEVELS = {"gentle": N_("Gentle"), "beginner": N_("Beginner"), "intermediate": N_("Intermediate")}


def settings(
    library: Library, *, routine_id: str | None, length: str, level: str, note: str = "", text_only: bool = False
) -> View:
    focus = routine_title(library.routines[routine_id]) if routine_id in library.routines else _("none yet (Quick)")
    text = (
        (f"{note}\n\n" if note else "")
        + _("<b>Your settings</b>")
        + "\n• "
        + _("Focus (what daily prompts offer): {focus}").format(focus=e(focus))
        + "\n• "
        + _("Session length: {length}").format(length=e(_(LENGTHS.get(length, length))))
        + "\n• "
        + _("Level: {level}").format(level=e(_(LEVELS.get(level, level))))
        + "\n• "
        + (_("Steps: text only") if text_only else _("Steps: with pictures"))
        + "\n• "
        + _("Language: {language} (/language to change it)").format(language=e(language_name(current_language())))
    )

    def g(label: str, key: str, value: str, current: str | None) -> Button:
        return Button(("• " if value == current else "") + label, cb.encode(cb.SettingPress(key, value)))

    focus_rows = [
        [g(routine_title(r), "f", r.id, routine_id) for r in library.routines_in_order()[i : i + 2]]
        for i in range(0, len(library.routines), 2)
    ]
    return View(
        text,
        [
            *focus_rows,
            [g(_(LENGTH_BUTTONS[k]), "l", k, length) for k in LENGTHS],
            [g(_(v), "v", k, level) for k, v in LEVELS.items()],
            [
                g(_("🖼 With pictures"), "p", "pics", "text" if text_only else "pics"),
                g(_("📝 Text only"), "p", "text", "text" if text_only else "pics"),
            ],
            [Button(_("🌍 Language…"), cb.encode(cb.NavPress("language")))],
            [Button(_("⏰ Daily prompts…"), cb.encode(cb.NavPress("reminders")))],
        ],
    )


LENGTH_BUTTONS = {"short": N_("Short"), "normal": N_("Normal"), "long": N_("Long")}


def delete_ask() -> View:
    return View(
        _(
            "🗑 <b>Delete everything Limber stores about you?</b>\n"
            "Your ratings, sessions, steps, reminders, settings and safety answers will be erased for good. "
            "You can /export them first."
        ),
        [
            [Button(_("Yes, continue…"), cb.encode(cb.DeletePress(1)))],
            [Button(_("No, keep my data"), cb.encode(cb.DeletePress(0)))],
        ],
    )


def delete_confirm(code: str) -> View:
    return View(
        _("This cannot be undone. Erase all your data now?"),
        [
            [Button(_("🗑 Erase everything"), cb.encode(cb.DeletePress(2, code)))],
            [Button(_("Cancel"), cb.encode(cb.DeletePress(0)))],
        ],
    )


PROGRESS_CHART_CAPTION = N_("Your pain day by day (the last 30 days at most), with a 7-day average")
REPORT_CAPTION = N_("Your Limber summary, ready to forward to your physiotherapist or doctor. Not medical advice.")
EXPORT_CSV_CAPTION = N_("Your ratings, sessions and steps (CSV), with times in UTC and in your time zone.")
EXPORT_JSON_CAPTION = N_(
    "Everything Limber stores about you (JSON): every table with your rows, times in UTC and in your time zone. "
    "/delete erases it."
)
DELETED = N_("Done: everything Limber stored about you has been erased. If you write again, you start afresh.")
KEPT = N_("Nothing was deleted.")


def flare_offer(title: str, session_id: int, flare_id: str) -> View:
    return View(
        _(
            "Your pain is 2 or more points above your recent average. On a day like this a gentler routine may suit "
            "you better. Switch from <b>{title}</b> to <b>Relax</b>, or just carry on below."
        ).format(title=e(title)),
        [[Button(_("🌿 Switch to Relax"), cb.encode(cb.RoutinePress(flare_id, session_id)))]],
    )


def times(n: int) -> str:
    """'once', 'twice', '3 times'."""
    return ngettext("once", "{n} times", n).format(n=n) if n != 2 else _("twice")


def adapt_note(note: Note, library: Library) -> str:
    """One way today's routine differs from the standard one, in words."""
    title = technique_title(library.techniques[note.technique_id]) if note.technique_id else ""
    match note.kind:
        case NoteKind.left_out:
            return _("Left out {title}: marked as hurting {times}.").format(title=title, times=times(note.count))
        case NoteKind.kept_anyway:
            return _(
                "Kept {title}, the gentlest stretch here, so the routine isn't empty: "
                "it was marked as hurting too, so go gently and stop if it hurts."
            ).format(title=title)
        case NoteKind.back:
            return ngettext(
                "{title} is back: it's been {n} week since it hurt; go gently.",
                "{title} is back: it's been {n} weeks since it hurt; go gently.",
                note.count,
            ).format(title=title, n=note.count)
        case NoteKind.holds_shorter:
            return _("Holds are shorter after your pain rose last time.")
        case NoteKind.holds_longer:
            return _("Holds are {percent}% longer: three sessions in a row without more pain.").format(
                percent=note.count
            )
        case NoteKind.holds_longer_than_at_first:
            text = (
                _(
                    "Holds are up to {percent}% longer than at first: they grow a little after every three "
                    "sessions in a row without more pain."
                )
                if note.up_to
                else _(
                    "Holds are {percent}% longer than at first: they grow a little after every three sessions "
                    "in a row without more pain."
                )
            )
            return text.format(percent=note.count)


def level_notes(swapped: list[tuple[str, str]], left_out: list[str], library: Library, level: str) -> list[str]:
    """Plain sentences (escaped by the caller) for how the person's level changed a routine."""
    t = library.techniques
    shown = _(LEVELS.get(level, level)).lower()
    return [
        _("{old} is swapped for {new}, a gentler one for your level ({level}).").format(
            old=technique_title(t[a]), new=technique_title(t[b]), level=shown
        )
        for a, b in swapped
    ] + [
        _("Left out {title}: above your level ({level}).").format(title=technique_title(t[a]), level=shown)
        for a in left_out
    ]


CLINICIAN_PAIN = N_(
    "If this pain is new, severe or getting worse, please see a clinician about it (your GP, a doctor or a physio)."
)
STAY_ACTIVE = N_(
    "Staying active helps most back pain settle: keep up your everyday activities as far as the pain allows, "
    "rather than resting in bed (NICE guideline NG59)."
)


def pain_check(session_id: int, title: str, relax_title: str | None, *, is_relax: bool) -> View:
    """After a rating of 8 or more before a routine: no stretch yet, a choice of Relax or stopping."""
    if is_relax:
        offer = _(
            "If you'd like to go on, <b>{title}</b> is made of resting positions and small, gentle movements."
        ).format(title=e(title))
        go = [Button(_("🌿 Start {title} gently").format(title=title), cb.encode(cb.PainCheckPress(session_id, "r")))]
    elif relax_title is not None:
        offer = _(
            "Rather than <b>{title}</b>, the <b>{relax}</b> routine may suit you better today: "
            "resting positions and small, gentle movements."
        ).format(title=e(title), relax=e(relax_title))
        go = [
            Button(_("🌿 Switch to {title}").format(title=relax_title), cb.encode(cb.PainCheckPress(session_id, "r")))
        ]
    else:
        offer, go = "", []
    choice = (
        _("{offer} Or stop for now: that's fine too.").format(offer=offer)
        if offer
        else _("Stopping for now is the kind choice.")
    )
    return View(
        _("😣 <b>That's severe pain</b> (8 or more out of 10), so let's not go straight into a stretch.")
        + f"\n\n{choice}\n\n"
        + _(CLINICIAN_PAIN)
        + " "
        + _("If you notice any warning sign on the /safety card, get help straight away."),
        [*([go] if go else []), [Button(_("⏹ Stop for now"), cb.encode(cb.PainCheckPress(session_id, "x")))]],
    )


def pain_check_closed(switched: bool) -> str:
    return _("😣 Pain check: going gently") if switched else _("😣 Pain check: stopped for now")


def pain_check_stopped() -> View:
    return View(
        _("⏹ Stopped for now. Rest in whatever position eases the pain, and move about gently when you can.")
        + f"\n\n{_(STAY_ACTIVE)}\n\n{_(CLINICIAN_PAIN)} "
        + _("/safety lists the signs that need help straight away."),
        [nav_row()],
    )


def day_marked(kind: str, relax: Routine | None) -> View:
    """A skipped day marked as rest or flare; a flare day also offers the gentle routine when there is one."""
    if kind == DayKind.rest:
        return View(_("Marked today as a rest day. Your streak is safe."))
    if relax is None:
        return View(_("Marked today as a flare-up day. Your streak is safe. Go gently."))
    title = routine_title(relax)
    return View(
        _(
            "Marked today as a flare-up day. Your streak is safe.\n\n"
            "If moving a little would help, the <b>{title}</b> routine has slow, easy stretches. "
            "Stop whenever you want."
        ).format(title=e(title)),
        [[Button(_("🌿 Start {title}").format(title=title), cb.encode(cb.RoutinePress(relax.id)))]],
    )


def skip_reason() -> View:
    return View(
        _("Skipped for today. Was it a planned rest day or a flare-up? Either keeps your streak going."),
        [
            [
                Button(_("😌 Rest day"), cb.encode(cb.SettingPress("d", DayKind.rest))),
                Button(_("🔥 Flare-up"), cb.encode(cb.SettingPress("d", DayKind.flare))),
            ]
        ],
    )


def usage(figures: dict[str, int]) -> View:
    return View(
        _(
            "<b>Usage</b>\n"
            "• People: {people} ({reminders_on} with daily prompts on)\n"
            "• Sessions: {sessions} in all, {sessions_recent} in the last 24 h\n"
            "• Ratings in the last 24 h: {ratings_recent}\n"
            "• Prompts sent in the last 24 h: {prompts_sent_recent} ({prompts_unknown_recent} unknown: cut off "
            "mid-send, not sent again)"
        ).format(**{"prompts_unknown_recent": 0, **figures})
    )


FLOOD = N_(
    "That's a lot of messages at once, so I'll skip the chatter for a few seconds. "
    "Pain ratings, buttons and /cancel still work, and nothing you rate is lost."
)
FLOOD_PRESS = N_("That's a lot of presses at once; give me a few seconds, then try again.")


# --- the daily prompt's buttons (bot.flows.prompt) ---------------------------------------------------

EARLIER_DAY = N_("That prompt is from an earlier day.")
SNOOZED_ONCE = N_("You've already snoozed today's prompt once.")
SKIPPED_TODAY = N_("Skipped for today.")
PROMPT_STARTED = N_("▶ Started.")
ALREADY_OPEN = N_("You already have a routine open: /stretch shows it.")


def already_noted(value: int) -> str:
    return _("Already noted: {value}/10.").format(value=value)


def pain_today(value: int) -> str:
    return _("Pain today: {value}/10 ✓").format(value=value)


def snoozed_until(due: datetime) -> str:
    """`due` in the person's own zone."""
    return _("⏰ Snoozed: I'll ask again around {time}.").format(time=f"{due:%H:%M}")


def prompt_answered(shown: str, note: str, keep: list[list[Button]]) -> View:
    """The prompt's message with what was done under it (`shown`: its text, empty when too old to read)."""
    return View(f"{shown}\n\n{note}".strip(), keep)


# --- daily prompt settings (bot.flows.reminders) ------------------------------------------------------

KEEP_ONE_DAY = N_("Keep at least one day.")
NEVER_MIND = N_("OK, never mind.")
SHARE_LOCATION = N_("📍 Share my location")
NO_ZONE_THERE = N_("I couldn't find a time zone for that place. Type a city instead.")


def reminder_note(note: str, *, time_text: str | None, zone: str) -> str:
    """The line above the settings after a change (bot.flows.reminders.Note)."""
    match note:
        case "on":
            return _("Daily prompts are on.")
        case "off":
            return _("Daily prompts are off.")
        case "time":
            return _("Daily prompt at {time}.").format(time=time_text)
        case "zone":
            return _("Time zone set to {zone}.").format(zone=e(zone))
        case "located":
            return _("Time zone set to {zone} from your location.").format(zone=e(zone))
        case _:
            return ""


def ask_zone() -> View:
    """The time zone question, with a button that shares a location (looked up offline)."""
    return View(ASK_ZONE, keyboard=[[KeyButton(SHARE_LOCATION, location=True)]])


def never_mind() -> View:
    """A command ended the typed question; the location keyboard, if shown, goes with it."""
    return View(NEVER_MIND, remove_keyboard=True)


# --- /settings (bot.flows.settings) ------------------------------------------------------------------

SAVED = N_("Saved")
SAVED_NOTE = N_("Saved.")


def saved_note() -> str:
    return _(SAVED_NOTE)


NOT_PAUSED = N_("Coaching isn't paused.")
ERASED = N_("Erased")
