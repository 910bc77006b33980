"""Run the emulator on its own: python -m emulator --host 127.0.0.1 --port 8081."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
from pathlib import Path

from emulator.server import Emulator


async def _serve(args: argparse.Namespace) -> None:
    tokens = set(args.token) if args.token else None
    emulator = Emulator(tokens=tokens, files_dir=args.files_dir, privacy_mode=not args.no_privacy)
    url = await emulator.start(args.host, args.port)
    # What the emulator records stays for its lifetime (chats, messages, events, calls). Full collections
    # walk all of it: with 10,000 chats each stalled the server ~100 ms, and the requests that queued
    # meanwhile were then logged at one moment (a fan-out paced at 28.5/s showed up to 34 in a second).
    gc.freeze()
    gc.set_threshold(700, 10, 1_000_000)  # the young generations only, in practice
    print(f"Telegram Bot API emulator listening on {url}", flush=True)
    print(f"  bot API:  {url}/bot<token>/<method>", flush=True)
    print(f"  files:    {url}/file/bot<token>/<file_path>", flush=True)
    print(f"  user API: {url}/_emu/bot<token>/<action>", flush=True)
    print(f"  uploads:  {emulator.files_dir()}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--token",
        action="append",
        help="accept only this token (repeatable); by default any well-formed token works",
    )
    parser.add_argument("--files-dir", type=Path, default=None, help="where uploads are kept")
    parser.add_argument(
        "--no-privacy",
        action="store_true",
        help="let the bot see every group message (privacy mode off)",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
