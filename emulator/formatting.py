"""Text formatting as the Bot API does it: parse_mode parsers, auto-detected entities, trimming.

The parsers follow TDLib's MessageEntity.cpp (the code behind the Bot API server), so the
error reasons and byte offsets match what Telegram returns after "can't parse entities: ".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Entity = dict[str, Any]
UserLookup = Callable[[int], dict[str, Any] | None]

# TDLib's is_space() also treats the terminating NUL as space; at() returns it past the end.
_SPACES = frozenset(" \t\r\n\v\f\0")
_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "tg-time", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}
# Entity ordering for equal offset/length, as TDLib's get_entity_priority (lower first).
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "date_time": 95,
    "custom_emoji": 99,
}
# Types Telegram finds by itself; given explicitly they are ignored and re-detected.
DETECTED_TYPES = frozenset(
    {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
     "bank_card_number"}
)  # fmt: skip
_OPAQUE_TYPES = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})
_TRIM_CHARS = " \t\r\n\v\f"


class EntityParseError(Exception):
    """A parse_mode error; str() is the reason Telegram puts after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _u16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


def check_url(url: str) -> str | None:
    """Normalise a link like Telegram does, or None when it would drop the entity."""
    url = url.strip()
    if not url or any(c.isspace() for c in url):
        return None
    lowered = url.lower()
    if lowered.startswith("tg://") or lowered.startswith("ton://"):
        return url
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
        return None
    host = parts.hostname
    if not re.fullmatch(r"[\w.-]+", host) or host.startswith(".") or host.endswith("."):
        return None
    if "." not in host and host != "localhost":
        return None
    if not parts.path and not parts.query and not parts.fragment:
        url += "/"
    return url


def _link_entity(url: str, offset: int, length: int, users: UserLookup | None) -> Entity | None:
    match = re.fullmatch(r"tg://user\?id=(\d{1,19})", url.strip())
    if match and users is not None:
        user = users(int(match.group(1)))
        if user is not None:
            return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    checked = check_url(url)
    if checked is None:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


def _decode_html_entity(text: str, pos: int) -> tuple[str, int] | None:
    """TDLib's decode_html_entity: (character, position after it) or None if not an entity."""
    n = len(text)
    end = pos + 1
    if end < n and text[end] == "#":
        end += 1
        value = 0
        if end < n and text[end] == "x":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
        else:
            while end < n and "0" <= text[end] <= "9":
                value = value * 10 + ord(text[end]) - 48
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(value)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if end < n and text[end] == ";":
        end += 1
    return char, end


@dataclass
class _OpenTag:
    tag: str
    argument: str
    offset: int
    begin: int  # index into the output characters
    extra: dict[str, str] = field(default_factory=dict)


def parse_html(text: str, users: UserLookup | None = None) -> tuple[str, list[Entity]]:
    n = len(text)

    def at(i: int) -> str:
        return text[i] if i < n else "\0"

    def fail(reason: str) -> EntityParseError:
        return EntityParseError(reason)

    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    nested: list[_OpenTag] = []
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                ch, i = decoded
                out.append(ch)
                utf16 += _u16(ch)
                continue
        if c != "<":
            out.append(c)
            utf16 += _u16(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise fail(f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}')
            argument = ""
            extra: dict[str, str] = {}
            while at(i) != ">":
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) not in _SPACES and at(i) not in "=>":
                    i += 1
                name = text[attr_begin:i]
                if not name:
                    raise fail(f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, begin)}')
                while i < n and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and name == "expandable":
                        argument = "1"
                        continue
                    raise fail(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                i += 1
                while i < n and at(i) in _SPACES:
                    i += 1
                if i >= n:
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}')
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value = text[token_begin:i].lower()
                    if at(i) not in _SPACES and at(i) != ">":
                        raise fail(f"Unexpected end of name token at byte offset {_byte_offset(text, token_begin)}")
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise fail(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif (tag == "tg-emoji" and name == "emoji-id") or (tag == "blockquote" and name == "expandable"):
                    argument = value if tag == "tg-emoji" else "1"
                elif tag == "tg-time" and name in ("unix", "format"):
                    extra[name] = value
            if tag == "span" and argument != "spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}')
            nested.append(_OpenTag(tag, argument, utf16, len(out), extra))
            i += 1
            continue

        if not nested:
            raise fail(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_name = text[begin + 2 : i].lower()
        while i < n and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise fail(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        top = nested[-1]
        if end_name and end_name != top.tag:
            raise fail(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{top.tag}>", found "</{end_name}>"'
            )
        if utf16 > top.offset:
            _close_html_entity(top, utf16 - top.offset, out, entities, users)
        nested.pop()
        i += 1

    if nested:
        raise fail(f'Can\'t find end tag corresponding to start tag "{nested[-1].tag}"')
    result = "".join(out)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in result):
        raise fail(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        )
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return result, sort_entities(entities)


def _close_html_entity(
    top: _OpenTag,
    length: int,
    out: list[str],
    entities: list[Entity],
    users: UserLookup | None,
) -> None:
    offset, tag = top.offset, top.tag
    if tag in _SIMPLE_TAGS or (tag == "span" and top.argument == "spoiler"):
        entities.append({"type": _SIMPLE_TAGS.get(tag, "spoiler"), "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not top.argument.isdigit() or not 0 < int(top.argument) < 2**63:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {"type": "custom_emoji", "offset": offset, "length": length,
             "custom_emoji_id": str(int(top.argument))}
        )  # fmt: skip
    elif tag == "tg-time":
        unix = top.extra.get("unix", "")
        if unix.isdigit() and int(unix) > 0:
            entity: Entity = {"type": "date_time", "offset": offset, "length": length,
                              "unix_time": int(unix)}  # fmt: skip
            if top.extra.get("format"):
                entity["date_time_format"] = top.extra["format"]
            entities.append(entity)
    elif tag == "a":
        url = top.argument or "".join(out[top.begin :])
        link = _link_entity(url, offset, length, users)
        if link is not None:
            entities.append(link)
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and top.argument
        ):
            last["language"] = top.argument
        else:
            code: Entity = {"type": "code", "offset": offset, "length": length}
            if top.argument:
                code["language"] = top.argument  # dropped later unless a <pre> wraps it
            entities.append(code)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if top.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


_V2_RESERVED = "_*[]()~`>#+-=|{}.!"
_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _OpenV2:
    type: str
    offset: int
    byte_index: int
    begin: int
    language: str = ""


def parse_markdown_v2(text: str, users: UserLookup | None = None) -> tuple[str, list[Entity]]:
    n = len(text)

    def at(i: int) -> str:
        return text[i] if i < n else "\0"

    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    nested: list[_OpenV2] = []
    quote: tuple[str, int] | None = None
    i = 0

    def close_quote() -> None:
        nonlocal quote
        if quote is None:
            return
        kind, start = quote
        end = utf16 - (1 if out and out[-1] == "\n" else 0)
        if end > start:
            entities.append({"type": kind, "offset": start, "length": end - start})
        quote = None

    while i < n:
        c = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        if line_start and not nested:
            if text.startswith("**>", i):
                close_quote()
                quote = ("expandable_blockquote", utf16)
                i += 3
                continue
            if c == ">":
                if quote is None:
                    quote = ("blockquote", utf16)
                i += 1
                continue
            if quote is not None:
                close_quote()
        if c == "\\" and "\0" < at(i + 1) <= "~":
            out.append(text[i + 1])
            utf16 += 1
            i += 2
            continue
        if (
            quote is not None
            and quote[0] == "expandable_blockquote"
            and not nested
            and text.startswith("||", i)
            and at(i + 2) in "\n\0"
        ):
            i += 2
            close_quote()
            continue

        reserved = _V2_RESERVED
        if nested and nested[-1].type in ("code", "pre"):
            reserved = "`"
        if c not in reserved:
            out.append(c)
            utf16 += _u16(c)
            i += 1
            continue

        top_type = nested[-1].type if nested else None
        is_end = False
        if top_type == "bold":
            is_end = c == "*"
        elif top_type == "italic":
            is_end = c == "_" and at(i + 1) != "_"
        elif top_type == "code":
            is_end = c == "`"
        elif top_type == "pre":
            is_end = text.startswith("```", i)
        elif top_type in ("text_link", "custom_emoji"):
            is_end = c == "]"
        elif top_type == "underline":
            is_end = text.startswith("__", i)
        elif top_type == "strikethrough":
            is_end = c == "~"
        elif top_type == "spoiler":
            is_end = text.startswith("||", i)

        if not is_end:
            byte_index = i
            language = ""
            if c == "_":
                kind = "italic"
                if at(i + 1) == "_":
                    kind = "underline"
                    i += 1
            elif c == "*":
                kind = "bold"
            elif c == "~":
                kind = "strikethrough"
            elif c == "|" and at(i + 1) == "|":
                kind = "spoiler"
                i += 1
            elif c == "[":
                kind = "text_link"
            elif c == "!" and at(i + 1) == "[":
                kind = "custom_emoji"
                i += 1
            elif c == "`":
                if text.startswith("```", i):
                    kind = "pre"
                    i += 3
                    lang_end = i
                    while at(lang_end) not in _SPACES and at(lang_end) != "`":
                        lang_end += 1
                    if i != lang_end and lang_end < n and text[lang_end] != "`":
                        language = text[i:lang_end]
                        i = lang_end
                    if at(i) in "\r\n":
                        i += 2 if at(i + 1) in "\r\n" and at(i) != at(i + 1) else 1
                    i -= 1
                else:
                    kind = "code"
            else:
                raise EntityParseError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")
            nested.append(_OpenV2(kind, utf16, byte_index, len(out), language))
            i += 1
            continue

        top = nested[-1]
        skip = utf16 == top.offset
        entity: Entity | None = {"type": top.type, "offset": top.offset, "length": 0}
        if top.type in ("underline", "spoiler"):
            i += 1
        elif top.type == "pre":
            i += 2
        elif top.type in ("text_link", "custom_emoji"):
            url = ""
            if at(i + 1) != "(":
                if top.type == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = "".join(out[top.begin :])
            else:
                i += 2
                url_begin = i
                chars: list[str] = []
                while i < n and text[i] != ")":
                    if text[i] == "\\" and "\0" < at(i + 1) <= "~":
                        chars.append(text[i + 1])
                        i += 2
                        continue
                    chars.append(text[i])
                    i += 1
                if at(i) != ")":
                    raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, url_begin)}")
                url = "".join(chars)
            if top.type == "custom_emoji":
                match = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if not match or int(match.group(1)) == 0:
                    raise EntityParseError("Invalid custom emoji identifier specified")
                assert entity is not None  # still the entity made above
                entity["custom_emoji_id"] = match.group(1)
            else:
                entity = _link_entity(url, top.offset, 0, users)
        if entity is not None and not skip:
            entity["length"] = utf16 - top.offset
            if top.type == "pre" and top.language:
                entity["language"] = top.language
            entities.append(entity)
        nested.pop()
        i += 1

    if nested:
        top = nested[-1]
        raise EntityParseError(
            f"Can't find end of {_V2_NAMES[top.type]} entity at byte offset {_byte_offset(text, top.byte_index)}"
        )
    close_quote()
    return "".join(out), sort_entities(entities)


def parse_markdown(text: str, users: UserLookup | None = None) -> tuple[str, list[Entity]]:
    """Legacy "Markdown" parse mode."""
    n = len(text)

    def at(i: int) -> str:
        return text[i] if i < n else "\0"

    out: list[str] = []
    utf16 = 0
    entities: list[Entity] = []
    i = 0
    while i < n:
        c = text[i]
        if c == "\\" and at(i + 1) in "_*`[":
            out.append(text[i + 1])
            utf16 += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            utf16 += _u16(c)
            i += 1
            continue
        begin = i
        end_char = "]" if c == "[" else c
        is_pre = False
        language = ""
        i += 1
        if c == "`" and at(i) == "`" and at(i + 1) == "`":
            i += 2
            is_pre = True
            lang_end = i
            while at(lang_end) not in _SPACES and at(lang_end) != "`":
                lang_end += 1
            if i != lang_end and lang_end < n and text[lang_end] != "`":
                language = text[i:lang_end]
                i = lang_end
            if at(i) in "\r\n":
                i += 2 if at(i + 1) in "\r\n" and at(i) != at(i + 1) else 1
        offset = utf16
        begin_out = len(out)
        while i < n and (text[i] != end_char or (is_pre and not (at(i + 1) == "`" and at(i + 2) == "`"))):
            out.append(text[i])
            utf16 += _u16(text[i])
            i += 1
        if i >= n:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {_byte_offset(text, begin)}")
        if offset != utf16:
            length = utf16 - offset
            if c == "_":
                entities.append({"type": "italic", "offset": offset, "length": length})
            elif c == "*":
                entities.append({"type": "bold", "offset": offset, "length": length})
            elif c == "[":
                url = ""
                if at(i + 1) == "(":
                    i += 2
                    chars: list[str] = []
                    while i < n and text[i] != ")":
                        chars.append(text[i])
                        i += 1
                    url = "".join(chars)
                else:
                    url = "".join(out[begin_out:])
                link = _link_entity(url, offset, length, users)
                if link is not None:
                    entities.append(link)
            elif is_pre:
                pre: Entity = {"type": "pre", "offset": offset, "length": length}
                if language:
                    pre["language"] = language
                entities.append(pre)
            else:
                entities.append({"type": "code", "offset": offset, "length": length})
        if is_pre:
            i += 2
        i += 1
    return "".join(out), sort_entities(entities)


def parse_text(text: str, parse_mode: str | None, users: UserLookup | None = None) -> tuple[str, list[Entity]]:
    """Raises EntityParseError, or ValueError for an unknown parse_mode."""
    mode = (parse_mode or "").strip()
    if not mode:
        return text, []
    lowered = mode.lower()
    if lowered == "html":
        return parse_html(text, users)
    if lowered == "markdownv2":
        return parse_markdown_v2(text, users)
    if lowered == "markdown":
        return parse_markdown(text, users)
    raise ValueError(mode)


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip surrounding whitespace like TDLib's fix_formatted_text, keeping entities aligned."""
    stripped = text.lstrip(_TRIM_CHARS)
    shift = utf16_len(text[: len(text) - len(stripped)])
    stripped = stripped.rstrip(_TRIM_CHARS)
    total = utf16_len(stripped)
    fixed: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return stripped, fixed


_DETECTORS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")),
    (
        "url",
        re.compile(
            r"(?i)(?<![\w@/.])(?:(?:https?|ftp)://[^\s<>\"]+|www\.[^\s<>\"]+"
            r"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|me|ru|dev|app|ly|co|uk|de)"
            r"(?:/[^\s<>\"]*)?(?![\w@]))"
        ),
    ),
    ("bot_command", re.compile(r"(?<![\w/@#$])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")),
    ("mention", re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#&])#\w*[^\W\d_]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{1,8}(?![\w$])")),
]


def detect_entities(text: str, existing: list[Entity]) -> list[Entity]:
    """Entities Telegram adds on its own (links, mentions, commands, hashtags, e-mails)."""
    if not any(ch in text for ch in "/@#.$"):
        return existing
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DETECTORS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "url":
                while end > start and text[end - 1] in ".,;:!?)]}'\"":
                    end -= 1
            if end <= start or any(s < end and start < e for s, e in taken):
                continue
            taken.append((start, end))
            found.append((start, end, kind))
    if not found:
        return existing
    opaque = [(e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _OPAQUE_TYPES]
    result = list(existing)
    for start, end, kind in found:
        offset = utf16_len(text[:start])
        length = utf16_len(text[start:end])
        if any(s < offset + length and offset < e for s, e in opaque):
            continue
        result.append({"type": kind, "offset": offset, "length": length})
    return sort_entities(result)
