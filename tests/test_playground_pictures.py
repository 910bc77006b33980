"""The playground shows each picture the bot sends by its file path, and names the folder figures go to."""

from __future__ import annotations

import io

from bot.playground import FIGURES_DIR, FILES_DIR, ChatPrinter


def test_pictures_are_shown_by_their_file_paths() -> None:
    out = io.StringIO()
    printer = ChatPrinter(out)
    printer.show(
        {
            "seq": 1,
            "type": "message",
            "message": {"message_id": 7, "caption": "Step 1 of 6 · Clamshells", "animation": {"file_id": "x"}},
            "file_path": "/tmp/files/1/clamshell.gif",
        }
    )
    printer.show(
        {
            "seq": 2,
            "type": "message",
            "message": {"message_id": 8, "caption": "Step 2 of 6", "photo": [{"file_id": "y"}]},
            "file_path": "/tmp/files/1/knee-to-chest.png",
        }
    )
    printer.show({"seq": 3, "type": "edit", "message": {"message_id": 8, "caption": "Step 2 of 6\n⏳ 25 s left"}})
    shown = out.getvalue()
    assert "Step 1 of 6 · Clamshells" in shown
    assert "🎞 animation: /tmp/files/1/clamshell.gif" in shown
    assert "🖼 picture: /tmp/files/1/knee-to-chest.png" in shown
    # A countdown in a caption is followed like one in a text.
    assert "message 8 now says: ⏳ 25 s left" in shown
    assert FIGURES_DIR.parent == FILES_DIR


def test_a_pictures_buttons_are_shown_and_pressable() -> None:
    """A step sent as an animation or photo carries its buttons; the playground numbers them as for a text."""
    out = io.StringIO()
    printer = ChatPrinter(out)
    keyboard = {
        "inline_keyboard": [[{"text": "✅ Done", "callback_data": "x"}, {"text": "⏭ Skip", "callback_data": "y"}]]
    }
    printer.show(
        {
            "seq": 1,
            "type": "message",
            "message": {
                "message_id": 7,
                "caption": "Step 1 of 6",
                "animation": {"file_id": "x"},
                "reply_markup": keyboard,
            },
            "file_path": "/tmp/files/1/clamshell.gif",
        }
    )
    assert "[#1] ✅ Done  [#2] ⏭ Skip" in out.getvalue()
    assert printer.latest_with_buttons == 7
