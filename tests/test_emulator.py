"""The Telegram Bot API emulator, driven by python-telegram-bot itself and by EmulatorClient."""

from __future__ import annotations

import asyncio
import datetime as dtm
import struct
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import telegram
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.constants import ChatMemberStatus, MessageEntityType
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CommandHandler, ContextTypes

from emulator import Emulator, EmulatorClient, EmulatorError
from emulator.state import max_in_window

TOKEN = "123456789:AAHk-test_token_for_limber_0123456789"
OTHER_TOKEN = "987654321:BBHk-other_token_for_limber_987654321"
USER = 4242


def png(width: int, height: int) -> bytes:
    """A real (tiny, valid) PNG so the emulator has a header to read."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
async def emulator(tmp_path: Path) -> AsyncIterator[Emulator]:
    emu = Emulator(files_dir=tmp_path / "files")
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
def url(emulator: Emulator) -> str:
    assert emulator.url is not None
    return emulator.url


def make_bot(url: str, token: str = TOKEN) -> telegram.Bot:
    return telegram.Bot(token, base_url=f"{url}/bot", base_file_url=f"{url}/file/bot")


@pytest.fixture
async def bot(url: str) -> AsyncIterator[telegram.Bot]:
    async with make_bot(url) as tg_bot:
        yield tg_bot


@pytest.fixture
async def user(url: str) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(url, TOKEN) as client:
        yield client


async def next_updates(bot: telegram.Bot, offset: int | None = None) -> tuple[Update, ...]:
    return await bot.get_updates(offset=offset, timeout=5)


async def started_chat(bot: telegram.Bot, user: EmulatorClient, user_id: int = USER) -> int:
    """The user says /start and the bot confirms the update; returns the next offset."""
    await user.send(user_id, "/start")
    updates = await next_updates(bot)
    return updates[-1].update_id + 1


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"cb:{label}")] for label in labels])


# --- identity and updates ------------------------------------------------------------------


async def test_get_me_matches_telegram_shape(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456789
    assert me.is_bot is True
    assert me.first_name == "Limber"
    assert me.username == "limber_test_bot"
    assert me.can_join_groups is True
    assert me.can_read_all_group_messages is False
    assert me.supports_inline_queries is False
    assert me.api_kwargs == {}  # every field is one PTB knows


async def test_user_message_arrives_with_bot_command(bot: telegram.Bot, user: EmulatorClient) -> None:
    sent = await user.send(USER, "/start@limber_test_bot welcome", first_name="Ann")
    updates = await next_updates(bot)
    assert len(updates) == 1
    update = updates[0]
    assert update.update_id == sent["update_id"]
    message = update.message
    assert message is not None
    assert message.text == "/start@limber_test_bot welcome"
    assert message.chat.id == USER
    assert message.chat.type == "private"
    assert message.from_user is not None and message.from_user.first_name == "Ann"
    assert message.entities == (MessageEntity(MessageEntityType.BOT_COMMAND, 0, len("/start@limber_test_bot")),)
    assert update.api_kwargs == {} and message.api_kwargs == {}
    assert Update.de_json(sent, bot) == update

    # An offset confirms the update, so it is not delivered again.
    assert await bot.get_updates(offset=update.update_id + 1) == ()


async def test_message_ids_are_shared_by_user_and_bot(bot: telegram.Bot, user: EmulatorClient) -> None:
    first = await user.send(USER, "hi")
    reply = await bot.send_message(USER, "hello")
    second = await user.send(USER, "again")
    assert [first["message"]["message_id"], reply.message_id, second["message"]["message_id"]] == [
        1,
        2,
        3,
    ]


async def test_inject_update_edited_message(bot: telegram.Bot, user: EmulatorClient) -> None:
    offset = await started_chat(bot, user)
    injected = await user.inject_update(
        {
            "edited_message": {
                "message_id": 1,
                "from": {"id": USER, "is_bot": False, "first_name": "Test"},
                "chat": {"id": USER, "type": "private", "first_name": "Test"},
                "date": int(time.time()),
                "text": "/start edited",
            }
        }
    )
    (update,) = await next_updates(bot, offset)
    assert update.update_id == injected["update_id"] == offset
    assert update.edited_message is not None
    assert update.edited_message.text == "/start edited"
    assert update.edited_message.edit_date is not None


# --- sending, keyboards, editing -----------------------------------------------------------


async def test_inline_keyboard_press_arrives_as_callback_query(bot: telegram.Bot, user: EmulatorClient) -> None:
    offset = await started_chat(bot, user)
    sent = await bot.send_message(USER, "Pick one", reply_markup=keyboard("Yes", "No", "Later"))
    assert sent.reply_markup == keyboard("Yes", "No", "Later")

    await user.press(USER, sent.message_id, button="no")  # the only label containing "no"
    await user.press(USER, sent.message_id, button=2)
    updates = await next_updates(bot, offset)
    queries = [u.callback_query for u in updates]
    assert all(q is not None for q in queries)
    assert [q.data for q in queries if q] == ["cb:No", "cb:Later"]
    query = queries[0]
    assert query is not None and isinstance(query.message, telegram.Message)
    assert query.from_user.id == USER
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup == keyboard("Yes", "No", "Later")
    assert query.chat_instance
    assert updates[0].api_kwargs == {} and query.api_kwargs == {}

    with pytest.raises(EmulatorError, match="no button labelled"):
        await user.press(USER, sent.message_id, button="Maybe")
    with pytest.raises(EmulatorError, match="not found"):
        await user.press(USER, 999, data="forged")


async def test_forged_callback_data_is_delivered(bot: telegram.Bot, user: EmulatorClient) -> None:
    offset = await started_chat(bot, user)
    sent = await bot.send_message(USER, "Pick", reply_markup=keyboard("A"))
    await user.press(USER, sent.message_id, data="admin:delete_all")
    (update,) = await next_updates(bot, offset)
    assert update.callback_query is not None
    assert update.callback_query.data == "admin:delete_all"


async def test_edit_message_text_then_identical_edit_is_rejected(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    sent = await bot.send_message(USER, "Step 1", reply_markup=keyboard("Next"))
    edited = await bot.edit_message_text(
        "Step 2", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard("Done")
    )
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Step 2"
    assert edited.edit_date is not None
    assert edited.reply_markup == keyboard("Done")

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Step 2", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard("Done"))

    # Leaving reply_markup out removes the keyboard, as on Telegram: a real change.
    await bot.edit_message_text("Step 2", chat_id=USER, message_id=sent.message_id)
    (current,) = await user.messages(USER)
    assert current["text"] == "Step 2"
    assert "reply_markup" not in current
    assert current["edit_count"] == 2
    assert (await user.calls("editMessageText"))[1]["status"] == 400


async def test_editing_missing_or_foreign_messages(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=777)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", chat_id=USER, message_id=1)  # the user's /start


async def test_edit_reply_markup_and_delete(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    sent = await bot.send_message(USER, "Menu", reply_markup=keyboard("A", "B"))
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard("C"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard("C"))
    (current,) = await user.messages(USER)
    assert current["reply_markup"] == keyboard("C").to_dict()

    assert await bot.delete_message(USER, sent.message_id) is True
    assert await user.messages(USER) == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    event = await user.wait_for(lambda e: e["type"] == "delete")
    assert event["message_id"] == sent.message_id and event["chat_id"] == USER


async def test_replies_and_reply_keyboards(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    reply = await bot.send_message(
        USER,
        "How does your hip feel?",
        reply_to_message_id=1,
        reply_markup=telegram.ReplyKeyboardMarkup([["Better", "Worse"]]),
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "/start"
    assert reply.reply_markup is None  # reply keyboards are not part of Message
    (stored,) = await user.messages(USER)
    assert stored["reply_keyboard"]["keyboard"] == [[{"text": "Better"}, {"text": "Worse"}]]
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(USER, "?", reply_to_message_id=99)


async def test_sending_to_unknown_chat_and_empty_text(bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(555, "hello?")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(555, "   ")


async def test_message_length_counts_text_after_html(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    body = "x" * 4096
    sent = await bot.send_message(USER, f"<b>{body}</b>", parse_mode="HTML")
    assert sent.text == body
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, body + "y")
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(USER, png(2, 2), caption="c" * 1025)


async def test_answer_callback_query_twice_is_too_old(bot: telegram.Bot, user: EmulatorClient) -> None:
    offset = await started_chat(bot, user)
    sent = await bot.send_message(USER, "Go?", reply_markup=keyboard("Go"))
    await user.press(USER, sent.message_id, button="Go")
    (update,) = await next_updates(bot, offset)
    assert update.callback_query is not None
    query_id = update.callback_query.id

    assert await bot.answer_callback_query(query_id, text="Saved", show_alert=True) is True
    answer = await user.wait_for(lambda e: e["type"] == "callback_answer")
    assert answer["callback_query_id"] == query_id
    assert answer["text"] == "Saved" and answer["show_alert"] is True

    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("123")


async def test_callback_query_expires_after_ttl(tmp_path: Path) -> None:
    emu = Emulator(files_dir=tmp_path, callback_query_ttl=0)
    url = await emu.start()
    try:
        async with make_bot(url) as tg_bot, EmulatorClient(url, TOKEN) as client:
            offset = await started_chat(tg_bot, client)
            sent = await tg_bot.send_message(USER, "Go?", reply_markup=keyboard("Go"))
            await client.press(USER, sent.message_id, button=0)
            (update,) = await next_updates(tg_bot, offset)
            assert update.callback_query is not None
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await tg_bot.answer_callback_query(update.callback_query.id)
    finally:
        await emu.stop()


async def test_callback_data_limits(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    fits = "é" * 32  # 64 bytes in UTF-8
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data=fits)]])
    assert (await bot.send_message(USER, "fits", reply_markup=markup)).reply_markup == markup

    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 32 + "a")]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER, "too long", reply_markup=too_long)
    plain = InlineKeyboardMarkup([[InlineKeyboardButton("just text")]])
    with pytest.raises(BadRequest, match=r"(?i)text buttons are unallowed"):
        await bot.send_message(USER, "plain", reply_markup=plain)
    assert len(await user.messages(USER)) == 1


# --- formatting ----------------------------------------------------------------------------


async def test_bad_html_is_rejected_like_telegram(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "Hello <foo>x</foo>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "<b>bold", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, "1 < 2", parse_mode="HTML")
    descriptions = [c["description"] for c in await user.calls("sendMessage")]
    assert descriptions == [
        'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 6',
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2',
    ]
    assert await user.messages(USER) == []


async def test_escaped_html_gives_plain_text_and_entities(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    html = '<b>5 &lt; 6</b> &amp; <i>ok 😀</i> <a href="https://example.com">site</a>'
    sent = await bot.send_message(USER, html, parse_mode="HTML")
    assert sent.text == "5 < 6 & ok 😀 site"
    assert sent.entities == (
        MessageEntity(MessageEntityType.BOLD, 0, 5),
        MessageEntity(MessageEntityType.ITALIC, 8, 5),  # the emoji is 2 UTF-16 units
        MessageEntity(MessageEntityType.TEXT_LINK, 14, 4, url="https://example.com/"),
    )
    (stored,) = await user.messages(USER)
    assert stored["text"] == "5 < 6 & ok 😀 site"
    assert stored["html"] == html
    event = await user.wait_for(lambda e: e["type"] == "message")
    assert event["message"]["html"] == html
    assert "html" not in (await user.calls("sendMessage"))[0]  # not part of the Bot API


# --- faults ------------------------------------------------------------------------------


async def test_injected_429_raises_retry_after_and_sends_nothing(
    bot: telegram.Bot, user: EmulatorClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns on int retry_after otherwise
    await started_chat(bot, user)
    await user.fail_next("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "flood")
    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert await user.messages(USER) == []
    failed = (await user.calls("sendMessage"))[-1]
    assert failed["status"] == 429 and failed["ok"] is False
    assert failed["description"] == "Too Many Requests: retry after 7"

    # The fault is used up: the retry goes through.
    await bot.send_message(USER, "flood")
    assert [m["text"] for m in await user.messages(USER)] == ["flood"]


async def test_faults_only_for_the_given_chat_and_count(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user, 1)
    await started_chat(bot, user, 2)
    await user.fail_next("sendmessage", error_code=400, description="Bad Request: nope", chat_id=2,
                         times=2)  # fmt: skip
    await bot.send_message(1, "fine")
    for _ in range(2):
        with pytest.raises(BadRequest, match=r"(?i)nope"):
            await bot.send_message(2, "fails")
    await bot.send_message(2, "fine again")
    assert [m["text"] for m in await user.messages(2)] == ["fine again"]


async def test_forbidden_fault_and_blocking(bot: telegram.Bot, user: EmulatorClient) -> None:
    offset = await started_chat(bot, user)
    await user.fail_next("sendMessage", error_code=403)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    assert await user.messages(USER) == []

    await user.block(USER)
    (update,) = await next_updates(bot, offset)
    member = update.my_chat_member
    assert member is not None
    assert member.chat.id == USER and member.from_user.id == USER
    assert member.old_chat_member.status == ChatMemberStatus.MEMBER
    assert member.new_chat_member.status == ChatMemberStatus.BANNED  # "kicked"
    assert member.new_chat_member.user.id == bot.id
    assert member.api_kwargs == {} and member.new_chat_member.api_kwargs == {}
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "are you there?")

    await user.block(USER, blocked=False)
    (update,) = await next_updates(bot, update.update_id + 1)
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == ChatMemberStatus.MEMBER
    await bot.send_message(USER, "welcome back")
    assert [m["text"] for m in await user.messages(USER)] == ["welcome back"]


async def test_server_errors_raise_network_error(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    await user.fail_next("sendMessage", error_code=500)
    with pytest.raises(NetworkError, match="Internal Server Error") as caught:
        await bot.send_message(USER, "a")
    assert not isinstance(caught.value, BadRequest)
    await user.fail_next("sendMessage", error_code=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "b")
    assert await user.messages(USER) == []
    assert [c["status"] for c in await user.calls("sendMessage")] == [500, 502]


# --- files ---------------------------------------------------------------------------------


async def test_photo_upload_get_file_and_download(bot: telegram.Bot, user: EmulatorClient, emulator: Emulator) -> None:
    await started_chat(bot, user)
    image = png(30, 20)
    sent = await bot.send_photo(USER, image, caption="<b>Stretch</b>", parse_mode="HTML")
    (size,) = sent.photo
    assert (size.width, size.height, size.file_size) == (30, 20, len(image))
    assert sent.caption == "Stretch"
    assert sent.caption_entities == (MessageEntity(MessageEntityType.BOLD, 0, 7),)

    file = await bot.get_file(size.file_id)
    assert file.file_size == len(image)
    assert file.file_path is not None and file.file_path.startswith(f"{emulator.url}/file/bot")
    assert bytes(await file.download_as_bytearray()) == image

    event = await user.wait_for(lambda e: e["type"] == "message")
    assert await asyncio.to_thread(Path(event["file_path"]).read_bytes) == image

    # Re-sending by file_id reuses the stored file.
    again = await bot.send_photo(USER, size.file_id)
    assert again.photo[0].file_unique_id == size.file_unique_id
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(USER, "no-such-file-id")


async def test_animation_upload_and_reuse_by_file_id(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    gif = b"GIF89a" + (40).to_bytes(2, "little") + (30).to_bytes(2, "little") + b"\x00" * 20
    sent = await bot.send_animation(USER, gif, filename="move.gif", caption="Step 1")
    assert sent.animation is not None and (sent.animation.width, sent.animation.height) == (40, 30)
    assert sent.document is not None and sent.document.file_id == sent.animation.file_id
    again = await bot.send_animation(USER, sent.animation.file_id, caption="Step 1 again")
    assert again.animation is not None and again.animation.file_unique_id == sent.animation.file_unique_id
    # The call log names the file each send carried, uploaded or by id (a replaying bot needs it).
    assert [c["file"] for c in await user.calls("sendAnimation")] == [
        {"kind": "animation", "file_name": "move.gif"}
    ] * 2
    # An id this bot was never given, or one of another kind, is a 400 as on Telegram.
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_animation(USER, "CgACnot-a-file")
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type animation as photo"):
        await bot.send_photo(USER, sent.animation.file_id)
    # A caption is edited as a caption; text edits are refused on a picture, as on Telegram.
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("new", chat_id=USER, message_id=again.message_id)
    edited = await bot.edit_message_caption(chat_id=USER, message_id=again.message_id, caption="⏳ 25 s left")
    assert isinstance(edited, telegram.Message) and edited.caption == "⏳ 25 s left"


async def test_document_upload_keeps_name_and_bytes(bot: telegram.Bot, user: EmulatorClient, tmp_path: Path) -> None:
    await started_chat(bot, user)
    content = b"Hip stretch plan\n" * 50
    sent = await bot.send_document(USER, content, filename="plan.txt", caption="Your plan")
    document = sent.document
    assert document is not None
    assert document.file_name == "plan.txt"
    assert document.mime_type == "text/plain"
    assert document.file_size == len(content)

    file = await bot.get_file(document.file_id)
    assert bytes(await file.download_as_bytearray()) == content
    stored = tmp_path / "files" / str(bot.id) / "plan.txt"
    assert await asyncio.to_thread(stored.read_bytes) == content
    (message,) = await user.messages(USER)
    assert message["file_path"] == str(stored)
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")


# --- commands, menu, misc methods ----------------------------------------------------------


async def test_set_and_get_my_commands(bot: telegram.Bot, user: EmulatorClient) -> None:
    commands = [BotCommand("start", "Begin"), BotCommand("stretch", "Today's routine")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="de") == ()
    event = await user.wait_for(lambda e: e["type"] == "commands")
    assert event["commands"] == [c.to_dict() for c in commands]

    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()


async def test_chat_action_menu_button_and_webhook(bot: telegram.Bot, user: EmulatorClient) -> None:
    offset = await started_chat(bot, user)
    assert await bot.send_chat_action(USER, "typing") is True
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")
    assert (await user.wait_for(lambda e: e["type"] == "chat_action"))["action"] == "typing"

    assert await bot.set_chat_menu_button(menu_button=telegram.MenuButtonCommands()) is True
    assert await bot.get_chat_menu_button() == telegram.MenuButtonCommands()

    assert await bot.set_webhook("https://example.com/hook") is True
    info = await bot.get_webhook_info()
    assert info.url == "https://example.com/hook"
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook() is True
    assert await bot.get_updates(offset=offset) == ()
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://example.com/hook")
    # As Telegram: no action in a chat the bot never met, nor in one whose person blocked it.
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_chat_action(USER + 999, "upload_photo")
    await user.block(USER)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, "upload_document")
    await user.block(USER, blocked=False)


async def test_unknown_method_and_bad_tokens(bot: telegram.Bot, url: str) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("fooBar")
    # A real method the emulator does not implement is named, not passed off as a bad token.
    with pytest.raises(BadRequest, match=r"(?i)pinchatmessage is not supported"):
        await bot.pin_chat_message(USER, 1)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/bot{TOKEN}/fooBar") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        async with make_bot(url, "12345:too-short"):
            pass


async def test_token_allow_list_gives_unauthorized(tmp_path: Path) -> None:
    async with Emulator(tokens={TOKEN}, files_dir=tmp_path) as emu:
        assert emu.url is not None
        async with make_bot(emu.url) as allowed:
            assert allowed.id == 123456789
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{emu.url}/bot{OTHER_TOKEN}/getMe") as response:
                assert response.status == 401
                assert (await response.json())["description"] == "Unauthorized"


async def test_accepts_json_query_string_and_any_method_case(user: EmulatorClient, url: str) -> None:
    await user.send(USER, "hi")
    async with aiohttp.ClientSession() as session:
        body = {"chat_id": USER, "text": "via json", "reply_markup": keyboard("A").to_dict()}
        async with session.post(f"{url}/bot{TOKEN}/SENDMESSAGE", json=body) as response:
            assert response.status == 200
            result = (await response.json())["result"]
        assert result["reply_markup"] == keyboard("A").to_dict()
        query = {"chat_id": str(USER), "text": "via query"}
        async with session.get(f"{url}/bot{TOKEN}/sendMessage", params=query) as response:
            assert response.status == 200
    assert [m["text"] for m in await user.messages(USER)] == ["via json", "via query"]
    assert (await user.calls())[0]["method"] == "sendMessage"


# --- polling -------------------------------------------------------------------------------


async def wait_until_polling(emulator: Emulator) -> None:
    # The emulator has no "poll started" signal, so look for its waiting getUpdates briefly.
    async with asyncio.timeout(5):
        while emulator.bot(TOKEN).poller is None:
            await asyncio.sleep(0.005)


async def test_long_poll_returns_as_soon_as_a_message_arrives(
    bot: telegram.Bot, user: EmulatorClient, emulator: Emulator
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await wait_until_polling(emulator)
    await user.send(USER, "ping")
    updates = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - started < 5
    assert [u.message.text for u in updates if u.message] == ["ping"]


async def test_second_poller_terminates_the_first(
    bot: telegram.Bot, user: EmulatorClient, emulator: Emulator, url: str
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await wait_until_polling(emulator)
    # A second instance of the same bot, as when a deployment overlaps the old one.
    async with make_bot(url) as duplicate:
        second = asyncio.create_task(duplicate.get_updates(timeout=20))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getupdates request"):
            await asyncio.wait_for(first, 5)
        await user.send(USER, "for the second")
        updates = await asyncio.wait_for(second, 5)
    assert [u.message.text for u in updates if u.message] == ["for the second"]


async def test_group_privacy_mode(bot: telegram.Bot, user: EmulatorClient) -> None:
    group = -100123
    await user.send(USER, "just chatting", chat_type="group", chat_id=group, title="Stretchers")
    await user.send(USER, "/stretch@limber_test_bot", chat_type="group", chat_id=group)
    updates = await next_updates(bot)
    assert [u.message.text for u in updates if u.message] == ["/stretch@limber_test_bot"]
    message = updates[0].message
    assert message is not None
    assert message.chat.type == "group" and message.chat.title == "Stretchers"
    assert message.message_id == 2


async def test_two_bots_are_isolated(bot: telegram.Bot, user: EmulatorClient, url: str) -> None:
    async with make_bot(url, OTHER_TOKEN) as other, EmulatorClient(url, OTHER_TOKEN) as other_user:
        await user.send(USER, "for the first bot")
        assert (await other.get_me()).id == 987654321
        assert await other.get_updates() == ()
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await other.send_message(USER, "hi")

        await other_user.send(USER, "for the second bot")
        (update,) = await other.get_updates()
        assert update.message is not None and update.message.message_id == 1
        await other.send_message(USER, "second says hi")
        (first_update,) = await bot.get_updates()
        assert first_update.message is not None
        assert first_update.message.text == "for the first bot"
        assert await user.messages(USER) == []
        assert [m["text"] for m in await other_user.messages(USER)] == ["second says hi"]
        assert await user.calls("sendMessage") == []


async def test_ptb_application_end_to_end(user: EmulatorClient, url: str) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html("<b>Hi!</b> Ready to stretch?")

    application = Application.builder().token(TOKEN).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot").build()
    application.add_handler(CommandHandler("start", start))
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=10)
        try:
            await user.send(USER, "/start")
            event = await user.wait_for(lambda e: e["type"] == "message", timeout=10)
        finally:
            await application.updater.stop()
            await application.stop()
    assert event["message"]["text"] == "Hi! Ready to stretch?"
    assert event["message"]["html"] == "<b>Hi!</b> Ready to stretch?"


async def test_wait_for_timeout_lists_recent_events(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    await bot.send_message(USER, "something else")
    with pytest.raises(TimeoutError, match="something else"):
        await user.wait_for(lambda e: e["type"] == "edit", timeout=0.2)


# --- stats -----------------------------------------------------------------------------------


def test_max_in_window_uses_one_second_sliding_windows() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5, 3.0]) == 3
    assert max_in_window([0.0, 0.2, 0.4, 0.6, 0.8, 1.0]) == 5
    assert max_in_window([5.0, 0.1, 0.3]) == 2  # order of arrival does not matter


async def test_stats_counts_successful_sends_per_window(
    bot: telegram.Bot, user: EmulatorClient, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    await started_chat(bot, user, 1)
    await started_chat(bot, user, 2)
    for text in ("a", "b", "c"):
        await bot.send_message(1, text)
    await bot.send_document(2, b"doc", filename="d.txt")
    await user.fail_next("sendMessage", error_code=429, retry_after=1)
    with pytest.raises(RetryAfter):
        await bot.send_message(2, "rejected")
    stats = await user.stats()
    assert stats["sent"] == 4
    assert stats["max_per_second_per_chat"] == {1: 3, 2: 1}
    assert stats["max_per_second_overall"] == 4

    # Deterministic windows: replace the recorded send times.
    emulator.bot(TOKEN).sends = [(0.0, 1), (0.4, 1), (0.9, 2), (1.2, 1), (2.5, 2), (2.6, 2)]
    stats = await user.stats()
    assert stats == {
        "webhook_posts": 0,
        "webhook_delivered": 0,
        "webhook_failures": 0,
        "sent": 6,
        "max_per_second_overall": 3,
        "max_per_second_per_chat": {1: 2, 2: 2},
        "latency_ms": 0.0,
        "jitter_ms": 0.0,
        "delayed_answers": 0,
        "delay_seconds": 0.0,
    }


async def test_reset_forgets_everything(bot: telegram.Bot, user: EmulatorClient) -> None:
    await started_chat(bot, user)
    await bot.send_message(USER, "x")
    await user.reset()
    assert await user.messages(USER) == []
    assert await user.calls() == []
    assert await user.events() == []
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(USER, "x")
    assert await user.stats() == {
        "webhook_posts": 0,
        "webhook_delivered": 0,
        "webhook_failures": 0,
        "sent": 0,
        "max_per_second_overall": 0,
        "max_per_second_per_chat": {},
        "latency_ms": 0.0,
        "jitter_ms": 0.0,
        "delayed_answers": 0,
        "delay_seconds": 0.0,
    }


async def test_webhook_posts_each_update_until_answered_2xx(bot: telegram.Bot, user: EmulatorClient) -> None:
    """As Telegram: the secret header on every post, a 5xx retried, a chat's updates in order."""
    posts: list[tuple[str | None, int]] = []
    answers = iter([500, 200, 200, 200])

    async def receive(request: aiohttp.web.Request) -> aiohttp.web.Response:
        body = await request.json()
        posts.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body["update_id"]))
        return aiohttp.web.Response(status=next(answers))

    app = aiohttp.web.Application()
    app.router.add_post("/hook", receive)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = next(a[1] for a in runner.addresses if isinstance(a, tuple))
    try:
        with pytest.raises(BadRequest, match="an https url must be provided"):
            await bot.set_webhook("http://limber.example/hook")
        with pytest.raises(BadRequest, match="unallowed characters"):
            await bot.set_webhook("https://limber.example/hook", secret_token="no spaces")
        assert await bot.set_webhook("https://limber.example/hook", secret_token="s3cret_-token")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await user.send(USER, "one")
        await user.send(USER, "two")
        assert (await bot.get_webhook_info()).pending_update_count == 2  # nowhere to post yet
        await user.route_webhook([f"http://127.0.0.1:{port}/hook"])
        async with asyncio.timeout(10):
            while (await bot.get_webhook_info()).pending_update_count:
                await asyncio.sleep(0.02)
        info = await bot.get_webhook_info()
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        first, second = posts[0][1], posts[-1][1]
        assert posts == [("s3cret_-token", first), ("s3cret_-token", first), ("s3cret_-token", second)]
        assert second == first + 1
        stats = await user.stats()
        assert (stats["webhook_posts"], stats["webhook_delivered"], stats["webhook_failures"]) == (3, 2, 1)
    finally:
        await runner.cleanup()
