"""The `limber` command: the bot against Telegram, or the local playground when there is no token."""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys

from telegram.ext import Application

from bot.app import BOOTSTRAP_RETRIES, build_application, start_polling, stop_polling
from bot.config import Settings
from bot.logs import setup_logging
from bot.updates import ALLOWED_UPDATES, LimberApplication
from bot.webhook import WebhookServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="limber", description=__doc__)
    parser.add_argument(
        "mode",
        nargs="?",
        default="auto",
        choices=["auto", "run", "playground", "demo", "emulator", "figures"],
        help="auto (default): run with a token, else the playground; run: Telegram long polling, or webhook "
        "mode when WEBHOOK_URL is set; "
        "playground: terminal chat with the local emulator; demo: a scripted playground session; "
        "emulator: the local Bot API emulator alone; figures: draw every technique's figure into --out",
    )
    parser.add_argument("--port", type=int, default=0, help="emulator port for playground/emulator (0: any free)")
    parser.add_argument(
        "--role",
        choices=["all", "updates", "clock"],
        help="with run: answer updates and send daily prompts (all, the default), or only one of them "
        "(webhook workers with --role updates beside one or more clocks; see Procfile)",
    )
    parser.add_argument("--out", default="figures-out", help="with figures: the folder to write them to")
    args = parser.parse_args(argv)
    if args.mode == "figures":
        return _figures(args.out)
    settings = Settings()
    if args.role:
        settings = settings.model_copy(update={"role": args.role})
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    setup_logging(settings.log_level, settings.secrets())

    mode = args.mode
    if mode == "auto":
        mode = "run" if token else ("playground" if sys.stdin.isatty() else "demo")
    if mode == "run":
        if not token:
            parser.error("TELEGRAM_BOT_TOKEN is not set (see .env.example); `limber playground` runs locally")
        app = build_application(settings)
        # What is loaded by now (libraries, handlers) lives as long as the process: the collector need not
        # walk it again in every full collection (~90 ms each on the event loop with 100,000 people).
        gc.freeze()
        if settings.role == "clock" or settings.webhook:
            return asyncio.run(_run_until_signal(app, settings))
        app.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=BOOTSTRAP_RETRIES)
        return 0
    from bot import playground

    if mode == "emulator":
        return asyncio.run(playground.serve_emulator(args.port))
    return asyncio.run(playground.run(settings, interactive=mode == "playground", port=args.port))


def _figures(out: str) -> int:
    """`limber figures --out DIR`: every figure, animation and a contact sheet, one path a line."""
    from pathlib import Path

    from content import load_library
    from figures.files import render_all

    for path in render_all(load_library(), Path(out)):
        print(path)
    return 0


async def _run_until_signal(app: Application, settings: Settings) -> int:
    """A webhook worker (updates posted by Telegram) or the prompt clock alone; stops on SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await start_polling(app, poll=False)
    server = WebhookServer(app, settings) if settings.webhook and settings.role != "clock" else None
    try:
        if server is not None:
            await server.start()
        await stop.wait()
        if isinstance(app, LimberApplication):
            app.stopping()  # the jobs' grace runs while the webhook server finishes its posts
    finally:
        if server is not None:
            await server.stop()
        await stop_polling(app)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
