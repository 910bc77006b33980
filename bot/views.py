"""Every text the bot sends, with its buttons as plain data (HTML parse mode; all inserted text escaped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from bot import callbacks as cb
from bot.coaching.plan import PlannedStep, estimate_minutes
from bot.coaching.ratings import Verdict
from bot.coaching.redflags import describe
from bot.coaching.schedule import DAY_NAMES, PRESET_TIMES, describe_days
from bot.coaching.session import StepAction, Summary
from bot.coaching.timer import TimerView
from content import Library
from content.schema import Technique


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class View:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)


def e(text: str) -> str:
    return escape(text, quote=False)


def clip(text: str, limit: int = 40) -> str:
    """A piece of what the person typed, short enough to quote back."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


COMMANDS: list[tuple[str, str]] = [
    ("stretch", "Start a guided routine, e.g. /stretch hips"),
    ("reminders", "Daily prompts: on or off, time, days, time zone"),
    ("progress", "Your pain chart, streaks and what helps"),
    ("settings", "Focus, session length and level"),
    ("pause", "Pause daily prompts"),
    ("resume", "Resume daily prompts"),
    ("cancel", "Stop what is going on (a routine or a question)"),
    ("report", "A one-page summary for your physio or doctor"),
    ("export", "Download everything stored about you"),
    ("delete", "Erase everything stored about you"),
    ("safety", "When to stop and get medical help"),
    ("help", "What I can do"),
    ("start", "Welcome and how Limber works"),
]

SAFETY_CARD = (
    "<b>Stop and get medical help now</b> if you have any of these:\n"
    "• new trouble controlling your bladder or bowels\n"
    "• numbness between your legs or around your genitals or bottom (the saddle area)\n"
    "• weakness or numbness in <b>both</b> legs\n"
    "• a fever, or feeling unwell, together with back pain\n"
    "• back pain after a fall, accident or injury\n\n"
    "<b>Stop the stretch</b> if you feel sharp, shooting or worsening pain. Mild stretching "
    "discomfort is fine; pain is not. You can stop any routine at any moment with ⏹ Stop or /cancel."
)

NAV_ROW = [Button("🧘 Routines", cb.encode(cb.NavPress("menu"))), Button("❓ Help", cb.encode(cb.NavPress("help")))]


def welcome(first_name: str) -> View:
    name = f", {e(clip(first_name, 30))}" if first_name.strip() else ""
    text = (
        f"Hi{name}! I'm <b>Limber</b>, a stretching coach for low back and hip pain.\n\n"
        "I guide you through short routines step by step, with a timer, and ask how your pain is "
        "before and after so you can see what helps.\n\n"
        "<i>I am not a doctor and this is not medical advice.</i> I can't diagnose anything and "
        "stretching is no cure. If your pain is new, severe or getting worse, please see a clinician.\n\n"
        f"{SAFETY_CARD}"
    )
    return View(
        text,
        [
            [Button("🧘 Start a routine", cb.encode(cb.NavPress("menu")))],
            [Button("⏰ Daily reminder", cb.encode(cb.NavPress("reminders")))],
            [Button("❓ How it works", cb.encode(cb.NavPress("help")))],
        ],
    )


def safety() -> View:
    return View(SAFETY_CARD, [NAV_ROW])


def help_view() -> View:
    lines = [f"/{name} — {e(text)}" for name, text in COMMANDS]
    return View(
        "<b>What I can do</b>\n"
        + "\n".join(lines)
        + "\n\n<b>Pain ratings</b>: send a number from 0 (no pain) to 10 (worst imaginable) at any time, "
        'e.g. "4" or "pain 4/10", and I\'ll note it.\n'
        "<b>During a routine</b>: tap ▶ Start timer for a live countdown, ✅ Done or ⏭ Skip to move on, "
        "😣 This hurts if a stretch causes pain, and ⏹ Stop whenever you want to end.\n\n"
        "Areas: "
        + ", ".join(
            f"<code>{name}</code>" for name in ("hips", "low back", "glutes", "hamstrings", "core", "relax", "quick")
        ),
        [
            [
                Button("🧘 Routines", cb.encode(cb.NavPress("menu"))),
                Button("🛑 Safety card", cb.encode(cb.NavPress("safety"))),
            ]
        ],
    )


def menu(library: Library, note: str = "") -> View:
    buttons = []
    for routine in library.routines_in_order():
        minutes = estimate_minutes(_plan_of(routine.id, library))
        buttons.append([Button(f"{routine.title} · {minutes} min", cb.encode(cb.RoutinePress(routine.id)))])
    lines = [f"• <b>{e(r.title)}</b>: {e(r.description)}" for r in library.routines_in_order()]
    head = f"{note}\n\n" if note else ""
    return View(f"{head}<b>Choose a routine</b>\n" + "\n".join(lines), buttons)


def _plan_of(routine_id: str, library: Library) -> list[PlannedStep]:
    from bot.coaching.plan import build_plan

    return build_plan(library.routines[routine_id], library)


def unknown_area(typed: str, library: Library) -> View:
    return menu(library, f"I don't have a routine called “{e(clip(typed))}”.")


def did_you_mean(typed: str, routine_id: str, library: Library) -> View:
    routine = library.routines[routine_id]
    return View(
        f"I don't have a routine called “{e(clip(typed))}”. Did you mean <b>{e(routine.title)}</b>?",
        [
            [Button(f"▶ Start {routine.title}", cb.encode(cb.RoutinePress(routine_id)))],
            [Button("🧘 All routines", cb.encode(cb.NavPress("menu")))],
        ],
    )


def open_session(
    session_id: int, title: str, step: int, step_count: int, status: str, wanted: str | None, wanted_title: str | None
) -> View:
    where = {
        "rating_before": "about to begin",
        "rating_after": "finished, waiting for your pain rating",
    }.get(status, f"at step {step + 1} of {step_count}")
    buttons = [[Button("▶ Continue", cb.encode(cb.ContinuePress(session_id, stop=False)))]]
    if wanted and wanted_title:
        buttons.append([Button(f"🔄 Start {wanted_title} instead", cb.encode(cb.RoutinePress(wanted, session_id)))])
    buttons.append([Button("⏹ Stop it", cb.encode(cb.ContinuePress(session_id, stop=True)))])
    return View(f"You have a routine open: <b>{e(title)}</b>, {where}.", buttons)


def rating_buttons(session_id: int, when: str) -> list[list[Button]]:
    def b(v: int) -> Button:
        return Button(str(v), cb.encode(cb.RatePress(session_id, when, v)))

    return [
        [b(v) for v in range(0, 6)],
        [b(v) for v in range(6, 11)],
        [Button("Skip rating", cb.encode(cb.RatePress(session_id, when, None)))],
    ]


def rating_before(session_id: int, title: str, step_count: int, minutes: int, *, note: str = "") -> View:
    changed = f"<i>Made for you today:</i>\n{note}\n\n" if note else ""
    return View(
        f"<b>{e(title)}</b>: {step_count} steps, about {minutes} min.\n\n{changed}"
        "Before we start: how is your pain right now, from 0 (none) to 10 (worst imaginable)? "
        "Tap a number or type it.",
        rating_buttons(session_id, "b"),
    )


def rating_after(session_id: int, stopped: bool) -> View:
    head = (
        "Routine stopped. That's fine: stopping is always OK." if stopped else "🎉 That was the last step. Well done!"
    )
    return View(
        f"{head}\n\nHow is your pain now, from 0 to 10? Tap a number or type it.", rating_buttons(session_id, "a")
    )


def _dose(step: PlannedStep) -> str:
    each = (
        " on each side"
        if step.sides == "both"
        else (f" on the {step.sides} side" if step.sides in ("left", "right") else "")
    )
    if step.hold_seconds and step.reps:
        return f"🔁 {step.reps} times{each}, holding {step.hold_seconds} s each time"
    if step.reps:
        return f"🔁 {step.reps} times{each}"
    rest = f", resting {step.rest_seconds} s between sides" if step.sides == "both" and step.rest_seconds else ""
    first = " (left side first)" if step.sides == "both" else ""
    return f"⏱ Hold {step.hold_seconds} s{each}{first}{rest}"


def has_timer(step: PlannedStep) -> bool:
    return bool(step.hold_seconds) and not step.reps


def timer_line(view: TimerView) -> str:
    if view.finished or view.phase is None:
        return "✅ <b>Time's up.</b> Tap ✅ Done when you're ready."
    phase = view.phase
    if phase.kind == "rest":
        return f"🔄 <b>Switch sides</b>: rest and get ready for the right side, {view.remaining} s"
    side = f"{phase.side.capitalize()} side: " if phase.side else ""
    after = ""
    if view.next_phase is not None:
        after = " — then switch sides" if view.next_phase.kind == "rest" or view.next_phase.side else ""
    return f"⏳ <b>{side}{view.remaining} s left</b>{after}"


def step(
    *,
    session_id: int,
    index: int,
    planned: PlannedStep,
    step_count: int,
    technique: Technique | None,
    timer: TimerView | None = None,
    note: str = "",
) -> View:
    head = f"{note}\n\n" if note else ""
    lines = [f"<b>Step {index + 1} of {step_count} · {e(planned.title)}</b>"]
    if technique is None:
        lines.append("The instructions for this step are no longer available. Please skip it.")
    else:
        where = technique.position.value.replace("_", " ")
        kit = f" · you need: {e(', '.join(technique.equipment))}" if technique.equipment else ""
        lines.append(f"<i>Position: {e(where)}{kit}</i>\n")
        lines += [f"{n}. {e(s)}" for n, s in enumerate(technique.steps, 1)]
        lines.append("")
        lines.append(_dose(planned))
        lines.append("⚠️ " + " ".join(e(c) for c in technique.cautions))
        lines.append(f"💡 {e(technique.why)}")
    if timer is not None:
        lines.append("\n" + timer_line(timer))

    def b(label: str, action: StepAction) -> Button:
        return Button(label, cb.encode(cb.StepPress(session_id, index, action)))

    buttons = []
    if timer is None and has_timer(planned) and technique is not None:
        buttons.append([b("▶ Start timer", StepAction.timer)])
    buttons.append([b("✅ Done", StepAction.done), b("⏭ Skip", StepAction.skip)])
    buttons.append([b("😣 This hurts", StepAction.hurt), b("⏹ Stop", StepAction.stop)])
    return View(head + "\n".join(lines), buttons)


OUTCOME_LABEL = {
    StepAction.done: "✅ Done",
    StepAction.skip: "⏭ Skipped",
    StepAction.hurt: "😣 Marked as hurting",
    StepAction.stop: "⏹ Stopped here",
}


def step_closed(index: int, step_count: int, title: str, action: StepAction) -> str:
    return f"<s>Step {index + 1} of {step_count} · {e(title)}</s>\n{OUTCOME_LABEL[action]}"


HURT_NOTE = (
    "😣 <b>Noted that the last stretch hurt.</b> Ease off: move less far, or leave that one out next time. "
    "If the pain is sharp or doesn't settle, stop the routine (⏹ Stop)."
)


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def summary(s: Summary) -> View:
    lines = [f"<b>Summary · {e(s.routine_title)}</b>" + (" (stopped early)" if s.stopped else "")]
    parts = [f"{s.done} of {s.step_count} steps done"]
    if s.skipped:
        parts.append(f"{s.skipped} skipped")
    if s.hurt:
        parts.append(f"{s.hurt} marked as hurting")
    if s.not_reached:
        parts.append(f"{s.not_reached} not reached")
    lines.append("• " + ", ".join(parts))
    lines.append(f"• Time: {_minutes(s.seconds)}")
    change = s.change
    if change is None:
        lines.append("• Pain: not rated both before and after, so no comparison this time.")
    else:
        sign = f"{change.delta:+d}" if change.delta else "no change"
        lines.append(f"• Pain: {change.before} → {change.after} ({sign})")
        lines.append(
            {
                Verdict.better: "That's a meaningful drop (2 points or 30% or more). Nice work.",
                Verdict.worse: "That's a meaningful rise (2 points or 30% or more). Go gentler next time: try the "
                "<b>Relax</b> routine, and see a clinician if the pain keeps rising.",
                Verdict.same: "That's within the normal ups and downs (less than 2 points and 30%): "
                "small changes are common, the trend over weeks matters more.",
            }[change.verdict]
        )
    if s.hurt:
        lines.append("\nSome stretches hurt: leave those out next time or do them more gently.")
    return View("\n".join(lines), [NAV_ROW])


def rating_noted(value: int, context: str) -> str:
    where = {"during": " during your routine", "free": ""}.get(context, "")
    return f"Noted: pain {value}/10{where}. Thank you."


def rating_out_of_range(raw: str) -> str:
    return f"Pain is rated with a whole number from 0 to 10, and “{e(clip(raw, 12))}” isn't one. Send a number from 0 to 10."


def red_flag(categories: list[str]) -> View:
    found = "\n".join(f"• {e(d)}" for d in describe(categories))
    return View(
        "🚨 <b>Please stop and get medical help now.</b>\n\n"
        f"What you wrote may describe:\n{found}\n\n"
        "Together with back pain this can be a sign of a problem that needs a doctor <b>today</b>, "
        "not stretching. Call your local emergency number or go to urgent care, especially if it came on suddenly.\n\n"
        "I've paused coaching. When you have been checked, or if these symptoms are not present, tell me below.",
        [[Button("I've been checked / this isn't present", cb.encode(cb.SafetyPress(1)))]],
    )


def red_flag_confirm(code: str) -> View:
    return View(
        "Before I resume coaching, please confirm which is true:",
        [
            [Button("✅ A clinician has checked me", cb.encode(cb.SafetyPress(2, code, "c")))],
            [Button("✅ I don't have these symptoms", cb.encode(cb.SafetyPress(2, code, "n")))],
            [Button("Keep coaching paused", cb.encode(cb.SafetyPress(0)))],
        ],
    )


def red_flag_cleared() -> View:
    return View("Thank you. Coaching is back on. Remember: stop at once on sharp pain or any warning sign.", [NAV_ROW])


def coaching_paused() -> View:
    return View(
        "⏸ Coaching is paused because you described a warning sign. Please get checked by a clinician first.\n\n"
        + SAFETY_CARD,
        [[Button("I've been checked / this isn't present", cb.encode(cb.SafetyPress(1)))]],
    )


def not_understood() -> View:
    return View(
        "I'm a stretching coach, so I understand only a few things:\n"
        '• a pain rating from 0 to 10, like "4" or "pain 4/10"\n'
        "• /stretch to pick a routine, or /stretch hips for one area\n"
        "• /help for everything else",
        [NAV_ROW],
    )


def unknown_command(command: str) -> View:
    return View(f"I don't know the command {e(clip(command, 32))}. Here is what I can do:", [NAV_ROW])


def non_text() -> View:
    return View("I can only read text messages. Send a pain rating from 0 to 10, or use /stretch.", [NAV_ROW])


EDITED = "I saw you edited a message. I only act on new messages, so please send it again if you meant it."
GROUP = "I coach one person at a time: please talk to me in a private chat."
STALE_BUTTON = "That button is from an earlier message and no longer does anything."
UNKNOWN_BUTTON = "That button isn't valid any more."
NOTHING_TO_CANCEL = "There's nothing to cancel right now. /stretch starts a routine."
SOMETHING_WRONG = "Sorry, something went wrong on my side. What you sent before this is saved; please try again."


def did_you_mean_start(routine_id: str, library: Library) -> View:
    routine = library.routines[routine_id]
    return View(
        f"Would you like the <b>{e(routine.title)}</b> routine?",
        [[Button(f"▶ Start {routine.title}", cb.encode(cb.RoutinePress(routine_id)))], NAV_ROW],
    )


# --- daily prompts and their settings ------------------------------------------------------------


def when(at: datetime, tz_key: str) -> str:
    """A moment as the person reads it: their own zone, named."""
    local = at.astimezone(ZoneInfo(tz_key))
    return f"{local:%a %d %b} at {local:%H:%M} ({e(tz_key)})"


def reminders(
    *, on: bool, time_text: str | None, days: int, tz_key: str, paused: bool, next_at: datetime | None, note: str = ""
) -> View:
    state = "on" if on else "off"
    lines = [f"{note}\n" if note else "", f"⏰ <b>Daily prompts: {state}</b>"]
    lines.append(f"Time: {e(time_text or 'not set')} · Days: {describe_days(days)} · Time zone: {e(tz_key)}")
    if paused:
        lines.append("⏸ Paused (/resume to restart them).")
    if next_at is not None:
        lines.append(f"Next prompt: {when(next_at, tz_key)}")
    elif on and not paused:
        lines.append("Pick a time to get your first prompt.")
    lines.append("\nEach prompt asks how your pain is and offers today's routine. You can snooze or skip it.")

    def t(label: str, action: str, arg: str) -> Button:
        return Button(label, cb.encode(cb.ReminderPress(action, arg)))

    toggle = t("🔕 Turn off", "o", "0") if on else t("🔔 Turn on", "o", "1")
    presets = [t(("• " if time_text == p else "") + p, "h", p.replace(":", "")) for p in PRESET_TIMES]
    return View(
        "\n".join(line for line in lines if line is not None).lstrip("\n"),
        [
            [toggle],
            presets[:3],
            presets[3:],
            [t("⌨️ Other time…", "h", "x")],
            [t("Every day", "d", "a"), t("Weekdays", "d", "w"), t("Pick days…", "d", "c")],
            [t("🌍 Time zone…", "z", "x")],
        ],
    )


def day_picker(days: int) -> View:
    row = [
        Button(("✅ " if days >> bit & 1 else "") + name, cb.encode(cb.ReminderPress("y", str(bit))))
        for bit, name in enumerate(DAY_NAMES)
    ]
    return View(
        f"Tap the days you want a prompt on, then Done.\nChosen: {describe_days(days)}",
        [row[:4], row[4:], [Button("Done", cb.encode(cb.ReminderPress("y", "k")))]],
    )


ASK_TIME = "What time should I send your daily prompt? Type it like 7:30, 19:05 or 7pm (your local time)."
ASK_ZONE = (
    "Which time zone are you in? Type a city (e.g. Berlin, San Francisco) or a zone name "
    "(e.g. Europe/Berlin), or share your location with the button below (it is only used to find the zone)."
)


def bad_time(typed: str) -> str:
    return f"I couldn't read “{e(clip(typed, 20))}” as a time. Try 7:30, 19:05 or 7pm, or /cancel."


def bad_zone(typed: str) -> str:
    return f"I don't know the time zone “{e(clip(typed, 30))}”. Try a big city near you, or a name like Europe/Berlin, or /cancel."


def zone_guess(typed: str, key: str) -> View:
    return View(
        f"I don't know “{e(clip(typed, 30))}”. Did you mean <b>{e(key)}</b>?",
        [[Button(f"Yes, {key}", cb.encode(cb.ReminderPress("z", key)))]],
    )


def prompt(prompt_id: int, title: str, steps: int, minutes: int, *, snooze: bool = False) -> View:
    head = "⏰ Here's your snoozed reminder." if snooze else "☀️ Time for today's stretch."
    text = (
        f"{head}\nToday's routine: <b>{e(title)}</b> ({steps} steps, about {minutes} min).\n\n"
        "How is your pain today, from 0 to 10?"
    )
    return View(text, [*prompt_rating_rows(prompt_id), *prompt_action_rows(prompt_id)])


def prompt_rating_rows(prompt_id: int) -> list[list[Button]]:
    def b(v: int) -> Button:
        return Button(str(v), cb.encode(cb.PromptPress(prompt_id, str(v))))

    return [[b(v) for v in range(0, 6)], [b(v) for v in range(6, 11)]]


def prompt_action_rows(prompt_id: int) -> list[list[Button]]:
    def b(label: str, action: str) -> Button:
        return Button(label, cb.encode(cb.PromptPress(prompt_id, action)))

    return [[b("▶ Start now", "s")], [b("⏰ In 20 min", "z"), b("⏰ In 1 hour", "h")], [b("Skip today", "k")]]


def paused_prompts(next_at: datetime | None, tz_key: str, paused: bool) -> View:
    if paused:
        return View("⏸ Daily prompts are paused. /resume brings them back.", [NAV_ROW])
    nxt = f" Next: {when(next_at, tz_key)}." if next_at else " (Daily prompts are off: /reminders to set them up.)"
    return View(f"▶ Daily prompts are on again.{nxt}", [NAV_ROW])


# --- settings, deletion ---------------------------------------------------------------------------

LENGTHS = {"short": "Short (up to 4 steps)", "normal": "Normal", "long": "Long (holds 25% longer)"}
LEVELS = {"gentle": "Gentle", "beginner": "Beginner", "intermediate": "Intermediate"}


def settings(library: Library, *, routine_id: str | None, length: str, level: str, note: str = "") -> View:
    focus = library.routines[routine_id].title if routine_id in library.routines else "none yet (Quick)"
    text = (
        (f"{note}\n\n" if note else "")
        + "<b>Your settings</b>\n"
        + f"• Focus (what daily prompts offer): {e(focus)}\n"
        + f"• Session length: {e(LENGTHS.get(length, length))}\n"
        + f"• Level: {e(LEVELS.get(level, level))}\n"
        + "• Language: English (the only one so far)"
    )

    def g(label: str, key: str, value: str, current: str | None) -> Button:
        return Button(("• " if value == current else "") + label, cb.encode(cb.SettingPress(key, value)))

    focus_rows = [
        [g(r.title, "f", r.id, routine_id) for r in library.routines_in_order()[i : i + 2]]
        for i in range(0, len(library.routines), 2)
    ]
    return View(
        text,
        [
            *focus_rows,
            [g(v.split(" (")[0], "l", k, length) for k, v in LENGTHS.items()],
            [g(v, "v", k, level) for k, v in LEVELS.items()],
            [Button("⏰ Daily prompts…", cb.encode(cb.NavPress("reminders")))],
        ],
    )


def delete_ask() -> View:
    return View(
        "🗑 <b>Delete everything Limber stores about you?</b>\n"
        "Your ratings, sessions, steps, reminders, settings and safety answers will be erased for good. "
        "You can /export them first.",
        [
            [Button("Yes, continue…", cb.encode(cb.DeletePress(1)))],
            [Button("No, keep my data", cb.encode(cb.DeletePress(0)))],
        ],
    )


def delete_confirm(code: str) -> View:
    return View(
        "This cannot be undone. Erase all your data now?",
        [
            [Button("🗑 Erase everything", cb.encode(cb.DeletePress(2, code)))],
            [Button("Cancel", cb.encode(cb.DeletePress(0)))],
        ],
    )


DELETED = "Done: everything Limber stored about you has been erased. If you write again, you start afresh."
KEPT = "Nothing was deleted."


def flare_offer(title: str, session_id: int) -> View:
    return View(
        f"Your pain is 2 or more points above your recent average. On a day like this a gentler routine may suit "
        f"you better. Switch from <b>{e(title)}</b> to <b>Relax</b>, or just carry on below.",
        [[Button("🌿 Switch to Relax", cb.encode(cb.RoutinePress("relax", session_id)))]],
    )


def skip_reason() -> View:
    return View(
        "Skipped for today. Was it a planned rest day or a flare-up? Either keeps your streak going.",
        [
            [
                Button("😌 Rest day", cb.encode(cb.SettingPress("d", "rest"))),
                Button("🔥 Flare-up", cb.encode(cb.SettingPress("d", "flare"))),
            ]
        ],
    )


def usage(figures: dict[str, int]) -> View:
    return View(
        "<b>Usage</b>\n"
        f"• People: {figures['people']} ({figures['reminders_on']} with daily prompts on)\n"
        f"• Sessions: {figures['sessions']} in all, {figures['sessions_recent']} in the last 24 h\n"
        f"• Ratings in the last 24 h: {figures['ratings_recent']}\n"
        f"• Prompts sent in the last 24 h: {figures['prompts_sent_recent']}"
        f" ({figures.get('prompts_unknown_recent', 0)} unknown: cut off mid-send, not sent again)"
    )


FLOOD = (
    "That's a lot of messages at once, so I'll skip the chatter for a few seconds. "
    "Pain ratings, buttons and /cancel still work, and nothing you rate is lost."
)
FLOOD_PRESS = "That's a lot of presses at once; give me a few seconds, then try again."
