"""The `limber` command: the bot against Telegram, or the local playground when there is no token."""

from __future__ import annotations

import argparse
import asyncio
import sys

from telegram import Update

from bot.app import build_application
from bot.logs import setup_logging
from bot.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="limber", description=__doc__)
    parser.add_argument(
        "mode",
        nargs="?",
        default="auto",
        choices=["auto", "run", "playground", "demo", "emulator"],
        help="auto (default): run with a token, else the playground; run: Telegram long polling; "
        "playground: terminal chat with the local emulator; demo: a scripted playground session; "
        "emulator: the local Bot API emulator alone",
    )
    parser.add_argument("--port", type=int, default=0, help="emulator port for playground/emulator (0: any free)")
    args = parser.parse_args(argv)
    settings = Settings()
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    setup_logging(settings.log_level, [token])

    mode = args.mode
    if mode == "auto":
        mode = "run" if token else ("playground" if sys.stdin.isatty() else "demo")
    if mode == "run":
        if not token:
            parser.error("TELEGRAM_BOT_TOKEN is not set (see .env.example); `limber playground` runs locally")
        build_application(settings).run_polling(allowed_updates=Update.ALL_TYPES)
        return 0
    from bot import playground

    if mode == "emulator":
        return asyncio.run(playground.serve_emulator(args.port))
    return asyncio.run(playground.run(settings, interactive=mode == "playground", port=args.port))


if __name__ == "__main__":
    raise SystemExit(main())
