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
    emulator = Emulator(
        tokens=tokens,
        files_dir=args.files_dir,
        privacy_mode=not args.no_privacy,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        latency_seed=args.latency_seed,
    )
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
    if args.latency_ms or args.jitter_ms:
        print(f"  latency:  {args.latency_ms:g} ms + up to {args.jitter_ms:g} ms on every Bot API answer", flush=True)
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
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay every Bot API answer this long (a network round trip)"
    )
    parser.add_argument("--jitter-ms", type=float, default=0.0, help="plus a uniform random 0..this on each answer")
    parser.add_argument("--latency-seed", type=int, default=None, help="seed of the jitter")
    args = parser.parse_args(argv)
    if args.latency_ms < 0 or args.jitter_ms < 0:
        parser.error("--latency-ms and --jitter-ms must not be negative")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
