"""Building the Application: every handler in one ordered list, services opened and closed around it."""

from __future__ import annotations

import logging

import httpx
from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import callbacks as cb
from bot import conversation, dbretry, i18n, ui, views
from bot.clock import Clock, SystemClock
from bot.concurrency import ChatLanes, ChatOrderedProcessor
from bot.config import Settings
from bot.filters import PAIN_RATING_TEXT, RED_FLAG_TEXT
from bot.guard import GuardedRequest
from bot.handlers import (
    admin,
    cancel,
    daily,
    errors,
    fallback,
    figures,
    flood,
    language,
    membership,
    privacy,
    progress,
    ratings,
    reminders,
    safety,
    settings,
    start,
    stretch,
    users,
)
from bot.prompt_clock import prompt_job, take_back_own
from bot.ratelimit import FanoutLimiter
from bot.services import Services, services
from bot.updates import ALLOWED_UPDATES, LimberApplication, housekeeping, until_stopped
from content import load_library
from storage import repo
from storage.db import Database

log = logging.getLogger(__name__)
# A periodic job that is late runs once, never twice at the same time.
ONE_AT_A_TIME = {"coalesce": True, "max_instances": 1}
# deleteWebhook before polling: retried through a brief Telegram fault.
BOOTSTRAP_RETRIES = 3


def register(app: Application) -> None:
    """Every handler, in the order Telegram updates meet them (first match in a group wins)."""
    private = filters.ChatType.PRIVATE
    new_message = private & filters.UpdateType.MESSAGE

    # First: someone flooding the bot is slowed down, keeping only what matters (ratings, buttons).
    app.add_handler(TypeHandler(Update, flood.guard), group=-3)
    # Then: the person has a row, so every later write can refer to it.
    app.add_handler(TypeHandler(Update, users.track_user), group=-2)
    # Then: text answering a question the bot asked (a time, a time zone) stops here; a button
    # press means the person moved on from the question.
    app.add_handler(MessageHandler(new_message & filters.TEXT, reminders.typed_answer), group=-1)
    app.add_handler(CallbackQueryHandler(reminders.forget_question), group=-1)

    # Commands (new messages only: an edited "/stretch" must not start a second routine).
    app.add_handler(CommandHandler("start", start.start, filters=new_message))
    app.add_handler(CommandHandler("help", start.help_command, filters=new_message))
    app.add_handler(CommandHandler("safety", start.safety, filters=new_message))
    app.add_handler(CommandHandler("language", language.language, filters=new_message))
    app.add_handler(CommandHandler("privacy", start.privacy, filters=new_message))
    app.add_handler(CommandHandler("stretch", stretch.stretch, filters=new_message))
    app.add_handler(CommandHandler("cancel", cancel.cancel, filters=new_message))
    app.add_handler(CommandHandler("reminders", reminders.reminders, filters=new_message))
    app.add_handler(CommandHandler("settings", settings.settings, filters=new_message))
    app.add_handler(CommandHandler("progress", progress.progress, filters=new_message))
    app.add_handler(CommandHandler("report", progress.report, filters=new_message))
    app.add_handler(CommandHandler("export", progress.export, filters=new_message))
    app.add_handler(CommandHandler("delete", privacy.delete, filters=new_message))
    # Operators only (ADMIN_IDS); not in the command menu.
    app.add_handler(CommandHandler("usage", admin.usage, filters=new_message))
    app.add_handler(CommandHandler("pause", reminders.pause, filters=new_message))
    app.add_handler(CommandHandler("resume", reminders.resume, filters=new_message))

    # Buttons: payloads are parsed in bot.callbacks and checked against the database in bot.flows.session.
    app.add_handler(CallbackQueryHandler(stretch.step_pressed, pattern=cb.of_kind(cb.StepPress)))
    app.add_handler(CallbackQueryHandler(ratings.rate_pressed, pattern=cb.of_kind(cb.RatePress)))
    app.add_handler(CallbackQueryHandler(ratings.rating_checked, pattern=cb.of_kind(cb.CheckRatingPress)))
    app.add_handler(CallbackQueryHandler(stretch.routine_pressed, pattern=cb.of_kind(cb.RoutinePress)))
    app.add_handler(CallbackQueryHandler(stretch.continue_pressed, pattern=cb.of_kind(cb.ContinuePress)))
    app.add_handler(CallbackQueryHandler(stretch.pain_check_pressed, pattern=cb.of_kind(cb.PainCheckPress)))
    app.add_handler(CallbackQueryHandler(safety.safety_pressed, pattern=cb.of_kind(cb.SafetyPress)))
    app.add_handler(CallbackQueryHandler(language.language_pressed, pattern=cb.of_kind(cb.LanguagePress)))
    app.add_handler(CallbackQueryHandler(start.nav_pressed, pattern=cb.of_kind(cb.NavPress)))
    app.add_handler(CallbackQueryHandler(reminders.reminder_pressed, pattern=cb.of_kind(cb.ReminderPress)))
    app.add_handler(CallbackQueryHandler(daily.prompt_pressed, pattern=cb.of_kind(cb.PromptPress)))
    app.add_handler(CallbackQueryHandler(settings.setting_pressed, pattern=cb.of_kind(cb.SettingPress)))
    app.add_handler(CallbackQueryHandler(privacy.delete_pressed, pattern=cb.of_kind(cb.DeletePress)))
    app.add_handler(CallbackQueryHandler(figures.info_pressed, pattern=cb.of_kind(cb.InfoPress)))
    app.add_handler(CallbackQueryHandler(fallback.unknown_button))  # forged, stale versions, anything else

    # Free text, most urgent first: a warning sign, then a pain rating, then anything else.
    text = new_message & filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(text & RED_FLAG_TEXT, safety.red_flag_text))
    app.add_handler(MessageHandler(text & PAIN_RATING_TEXT, ratings.typed_rating))
    app.add_handler(MessageHandler(text, fallback.free_text))

    # A shared location sets the time zone for daily prompts.
    app.add_handler(MessageHandler(new_message & filters.LOCATION, reminders.location_shared))
    # Blocked or unblocked: prompts stop or resume.
    app.add_handler(ChatMemberHandler(membership.my_status_changed, ChatMemberHandler.MY_CHAT_MEMBER))

    # Whatever else a person can send gets an answer too.
    app.add_handler(MessageHandler(new_message & filters.COMMAND, fallback.unknown_command))
    app.add_handler(MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, fallback.edited))
    app.add_handler(MessageHandler(new_message, fallback.non_text))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.COMMAND, fallback.group_command))

    app.add_error_handler(errors.on_error)

    # Last: every handler above waits and retries through a brief database outage.
    dbretry.wrap_handlers(app)


async def post_init(app: Application) -> None:
    """Open services: migrate the database, load and validate content, register the command menu."""
    settings: Settings = app.bot_data["settings"]
    clock: Clock = app.bot_data.get("clock") or SystemClock()
    library = load_library()
    db = Database(settings.database_url, timeouts=settings.database_timeouts())
    await db.migrate()
    svc = Services(settings=settings, db=db, library=library, clock=clock)
    app.bot_data["services"] = svc
    # Telegram shows each person the menu and profile in their app's language; a convenience, set the
    # same way at every start, so a fault here does not stop the bot.
    for lang in i18n.languages():
        with i18n.speaking(lang):
            code = None if lang == i18n.DEFAULT else lang
            try:
                await app.bot.set_my_commands([BotCommand(n, t) for n, t in views.commands()], language_code=code)
                await app.bot.set_my_description(views.bot_description(), language_code=code)
                await app.bot.set_my_short_description(views.bot_short_description(), language_code=code)
            except TelegramError as exc:
                log.warning("could not set the command menu or description (%s): %s", lang, exc.message)
    resumed = 0
    if settings.role != "clock":
        # Countdowns belong to the processes that answer buttons. A lone poller just restarted, so
        # every running countdown and every unfinished update claim was its own; among webhook
        # workers only silent ones are adopted, now and every few ticks.
        resumed = await conversation.resume_countdowns(app.bot, svc, all_running=not settings.webhook)
        if not settings.webhook:
            async with db.transaction() as session:
                await repo.release_updates(session)
        elif app.job_queue is not None:
            app.job_queue.run_repeating(
                adopt_countdowns, interval=2 * settings.timer_tick_seconds, name="countdowns", job_kwargs=ONE_AT_A_TIME
            )
    if app.job_queue is not None:
        app.job_queue.run_repeating(housekeeping_job, interval=3600, first=60, name="housekeeping")
    if settings.role in ("all", "clock") and app.job_queue is not None:
        # The database says what is due; the job only looks. Late runs are never dropped (no misfire
        # grace) and never pile up (coalesce, one at a time).
        app.bot_data["limiter"] = FanoutLimiter(clock, rate=settings.fanout_rate)
        await take_back_own(svc)
        app.job_queue.run_repeating(
            prompt_job,
            interval=settings.prompt_poll_seconds,
            first=settings.prompt_poll_seconds,
            name="prompts",
            job_kwargs={"misfire_grace_time": None, **ONE_AT_A_TIME},
        )
    log.info(
        "Limber ready (%s): %d techniques, %d routines, %d countdowns resumed",
        settings.role,
        len(library.techniques),
        len(library.routines),
        resumed,
    )


async def adopt_countdowns(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Webhook workers: take over the countdowns of a worker that stopped beating (it died)."""
    svc = services(context)
    try:
        adopted = await until_stopped(context.application, conversation.resume_countdowns(context.bot, svc))
    except Exception as exc:
        if dbretry.is_transient(exc):  # the database is down: the next tick looks again
            log.warning("could not look for silent countdowns: database unavailable")
        else:
            log.exception("could not look for silent countdowns")
        return
    if adopted:
        log.info("adopted %d countdowns", adopted)


async def housekeeping_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hourly: forget handled update ids Telegram can no longer re-deliver."""
    try:
        await until_stopped(context.application, housekeeping(services(context)))
    except Exception as exc:
        if dbretry.is_transient(exc):
            log.warning("housekeeping failed: database unavailable")
        else:
            log.exception("housekeeping failed")


async def post_stop(app: Application) -> None:
    """Stop countdowns while the Bot can still be used (run_polling shuts it down before post_shutdown)."""
    svc = app.bot_data.get("services")
    if isinstance(svc, Services):
        await svc.timers.close()


async def post_shutdown(app: Application) -> None:
    """Close services: the database (countdowns already stopped in post_stop; their state is stored)."""
    svc = app.bot_data.pop("services", None)
    if isinstance(svc, Services):
        await svc.db.close()


def bot_api_request(settings: Settings, *, guard: bool = False) -> HTTPXRequest:
    """The HTTP client for Bot API calls (getUpdates has its own): a pool sized for round trip x rate.

    `guard` (tests) refuses any Bot API request made inside a transaction (bot.guard)."""
    timeout = settings.telegram_timeout_seconds
    pool = settings.telegram_pool_size
    limits = httpx.Limits(
        max_connections=pool, max_keepalive_connections=pool, keepalive_expiry=settings.telegram_keepalive_seconds
    )
    kind = GuardedRequest if guard else HTTPXRequest
    return kind(
        connection_pool_size=pool,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
        pool_timeout=settings.telegram_pool_timeout_seconds,
        httpx_kwargs={"limits": limits},
    )


def chat_lanes(settings: Settings) -> ChatLanes:
    """Different chats at once, each in order (bot.concurrency); polling and the webhook share one."""
    return ChatLanes(
        settings.update_concurrency, settings.update_queue_per_chat, keep=flood.kept_in_a_flood, on_drop=flood.dropped
    )


def build_application(settings: Settings, *, clock: Clock | None = None, guard: bool = False) -> Application:
    """The Application; `guard` (tests) refuses any Bot API request made inside a transaction (bot.guard)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    api = settings.telegram_api_url
    builder = (
        Application.builder()
        .application_class(LimberApplication)
        .token(settings.telegram_bot_token.get_secret_value())
        # Every text, caption and edit is HTML (views.py escapes what it interpolates).
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .request(bot_api_request(settings, guard=guard))
        .concurrent_updates(ChatOrderedProcessor(chat_lanes(settings)))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    app = builder.build()
    app.bot_data["settings"] = settings
    app.bot_data["clock"] = clock
    if clock is not None:
        ui.use_clock(app.bot, clock)
    register(app)
    return app


async def start_polling(app: Application, *, poll: bool = True) -> None:
    """Start an application built here inside an already running event loop (with long polling by default).

    `run_polling` owns the loop; the playground, tests and benchmarks share theirs with the emulator,
    and a clock-only process (`poll=False`) runs the prompt job without fetching updates.
    """
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    assert app.updater is not None
    if poll:
        await app.updater.start_polling(
            poll_interval=0.0, timeout=10, allowed_updates=ALLOWED_UPDATES, bootstrap_retries=BOOTSTRAP_RETRIES
        )
    await app.start()


async def stop_polling(app: Application) -> None:
    """Undo `start_polling` in run_polling's order: stop fetching, let handlers finish, close services."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
