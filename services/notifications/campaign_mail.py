"""A campaign's mail built once per (campaign, locale, has a name) and filled per recipient.

Composing a mail from scratch (jinja, the ``email`` package, header folding, base64) costs
several times the SMTP exchange. All a campaign's mails of one locale are the same but for
the recipient's parts: the address, the first name, the unsubscribe link (its body line and
``List-Unsubscribe``), the id (``Message-ID`` and the MIME boundary) and ``Date``. A
``MailShape`` is what ``domain.build_email`` writes for placeholders in those places, cut
at them; ``fill`` puts a recipient's values in, each written the way ``build_email`` writes
it, so the bytes are the same (``tests/notifications/test_campaign_mail.py``). It holds no
recipient's data: only the campaign's text and the placeholders. Pure, no I/O.
"""

from __future__ import annotations

from binascii import b2a_base64
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from enum import Enum
from uuid import UUID

from markupsafe import escape

from services.notifications.domain import (
    Locale,
    OutgoingMail,
    RenderedMail,
    build_email,
    raw_utf8,
    wire_header,
)

_LINE = 76  # base64 characters a line
# What a link's token is made of (base64url and dots); compat32 folds at none of them.
_FOLDLESS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


class Slot(Enum):
    TO = "To"
    DATE = "Date"
    LIST_UNSUBSCRIBE = "List-Unsubscribe"
    ID_HEX = "id hex"  # the MIME boundary's
    ID = "id"  # Message-ID's
    TEXT = "text"  # the parts' base64
    HTML = "html"
    NAME = "name"  # in the text and the HTML
    TOKEN = "token"  # the unsubscribe link's


# Placeholders no campaign's own text holds (private-use characters, an id no mail gets).
_NAME = "\ue000"
_TOKEN = "\ue001"
_TO = "to@placeholder.invalid"
_ID = UUID("0123abcd-89ab-cdef-0123-456789abcdef")
_NOW = datetime(2000, 1, 1, tzinfo=UTC)
_TEXT = "\x00text\x00"
_HTML = "\x00html\x00"

Pieces = tuple[bytes | Slot, ...]
TextPieces = tuple[str | Slot, ...]
# (the rendered mail, the message's extra headers) for a first name and an unsubscribe link
Render = Callable[[str | None, str], tuple[RenderedMail, Mapping[str, str]]]


class NoShape(Exception):
    """This campaign's text cannot be cut at the placeholders: compose each mail whole."""


@dataclass(frozen=True)
class MailShape:
    mail_from: str
    sender: str
    data: Pieces
    text: TextPieces
    html: TextPieces
    link_prefix: str  # the unsubscribe link up to its token
    headers: Mapping[str, str]  # the extra headers, the link's held by TOKEN
    # token length -> List-Unsubscribe's line(s) before and after the token (a token has
    # no whitespace nor any character compat32 folds at, so only its length moves the folds)
    _unsubscribe: dict[int, tuple[bytes, bytes]] = field(default_factory=dict, compare=False)

    def fits(self, first_name: str | None, link: str) -> bool:
        """A name that would split a line, or a link of another form, changes more than its
        slot (the HTML's paragraphs and links are made from the text's lines)."""
        token = link[len(self.link_prefix) :]
        if not link.startswith(self.link_prefix) or not _FOLDLESS.issuperset(token):
            return False
        return first_name is None or not _splits(first_name)

    def fill(
        self, *, to: str, first_name: str | None, link: str, notification_id: UUID, now: datetime
    ) -> OutgoingMail:
        """The mail ``build_email`` writes for this recipient (check ``fits`` first)."""
        values = {Slot.NAME: first_name or "", Slot.TOKEN: link[len(self.link_prefix) :]}
        text = _join(self.text, values)
        html = _join(self.html, {slot: str(escape(value)) for slot, value in values.items()})
        before, after = self._unsubscribe_around(len(values[Slot.TOKEN]))
        parts = {
            Slot.TO: wire_header(Slot.TO.value, raw_utf8(to)),
            Slot.DATE: wire_header(Slot.DATE.value, format_datetime(now)),
            Slot.LIST_UNSUBSCRIBE: before + values[Slot.TOKEN].encode() + after,
            Slot.ID_HEX: notification_id.hex.encode(),
            Slot.ID: str(notification_id).encode(),
            Slot.TEXT: _base64(text),
            Slot.HTML: _base64(html),
        }
        data = b"".join(piece if isinstance(piece, bytes) else parts[piece] for piece in self.data)
        return OutgoingMail(sender=self.sender, recipient=to, data=data)

    def _unsubscribe_around(self, length: int) -> tuple[bytes, bytes]:
        if length not in self._unsubscribe:
            stand_in = "A" * length
            value = self.headers[Slot.LIST_UNSUBSCRIBE.value].replace(_TOKEN, stand_in)
            line = wire_header(Slot.LIST_UNSUBSCRIBE.value, value)
            at = line.rindex(stand_in.encode() + b">")
            self._unsubscribe[length] = (line[:at], line[at + length :])
        return self._unsubscribe[length]


def make_shape(
    *, mail_from: str, locale: Locale, has_name: bool, link_prefix: str, render: Render
) -> MailShape:
    """The shape of the mails ``render`` makes (raises ``NoShape`` when the campaign's own
    words hold a placeholder or put one where a recipient's value would change more)."""
    rendered, headers = render(_NAME if has_name else None, link_prefix + _TOKEN)
    if any(c in rendered.subject for c in (_NAME, _TOKEN)) or any(
        _NAME in v or (_TOKEN in v and name != Slot.LIST_UNSUBSCRIBE.value)
        for name, v in headers.items()
    ):
        raise NoShape("a recipient's part outside the body")
    text = _cut_text(rendered.text, has_name)
    html = _cut_text(rendered.html, has_name)
    _check_lines(rendered.text)
    mail = build_email(
        mail_from=mail_from,
        to=_TO,
        rendered=RenderedMail(subject=rendered.subject, text=_TEXT, html=_HTML),
        locale=locale,
        notification_id=_ID,
        now=_NOW,
        headers=headers,
    )
    head_end = mail.data.index(b"\r\n\r\n") + 2
    cuts: list[tuple[bytes, Slot]] = [
        (wire_header(Slot.TO.value, raw_utf8(_TO)), Slot.TO),
        (wire_header(Slot.DATE.value, format_datetime(_NOW)), Slot.DATE),
        (
            wire_header(Slot.LIST_UNSUBSCRIBE.value, headers[Slot.LIST_UNSUBSCRIBE.value]),
            Slot.LIST_UNSUBSCRIBE,
        ),
    ]
    data = _cut(mail.data[:head_end], cuts, once=True)
    data = _split_all(data, str(_ID).encode(), Slot.ID)
    body: Pieces = _cut(
        mail.data[head_end:], [(_base64(_TEXT), Slot.TEXT), (_base64(_HTML), Slot.HTML)], once=True
    )
    data = _split_all((*data, *body), _ID.hex.encode(), Slot.ID_HEX)
    return MailShape(
        mail_from=mail_from,
        sender=mail.sender,
        data=_merge(data),
        text=text,
        html=html,
        link_prefix=link_prefix,
        headers=dict(headers),
    )


ShapeKey = tuple[UUID, Locale, bool]  # the campaign, the locale, whether the mail names one


class ShapeCache:
    """The few shapes of the campaigns sent lately (each is a few kB)."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._shapes: OrderedDict[ShapeKey, MailShape | None] = OrderedDict()

    def get(self, key: ShapeKey, make: Callable[[], MailShape]) -> MailShape | None:
        """The shape for ``key``, made at the first call; None when it has none (``NoShape``)."""
        if key in self._shapes:
            self._shapes.move_to_end(key)
            return self._shapes[key]
        try:
            shape: MailShape | None = make()
        except NoShape:
            shape = None
        self._shapes[key] = shape
        if len(self._shapes) > self._size:
            self._shapes.popitem(last=False)
        return shape


def _base64(text: str) -> bytes:
    """A part's body as the generator writes a utf-8 MIMEText (``base64mime.body_encode``:
    lines of 76 characters, each 57 bytes encoded on their own; only the last is padded, so
    encoding the whole and cutting it gives the same lines)."""
    encoded = b2a_base64(text.encode(), newline=False)
    lines = [encoded[i : i + _LINE] for i in range(0, len(encoded), _LINE)]
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


def _splits(value: str) -> bool:
    return len(value.splitlines()) > 1 or value != value.replace("\n", "") or "\r" in value


def _join(pieces: TextPieces, values: Mapping[Slot, str]) -> str:
    return "".join(piece if isinstance(piece, str) else values[piece] for piece in pieces)


def _cut_text(text: str, has_name: bool) -> TextPieces:
    pieces: list[str | Slot] = []
    names = tokens = 0
    for i, chunk in enumerate(text.split(_TOKEN)):
        if i:
            pieces.append(Slot.TOKEN)
            tokens += 1
        for j, part in enumerate(chunk.split(_NAME)):
            if j:
                pieces.append(Slot.NAME)
                names += 1
            pieces.append(part)
    if not tokens or (names > 0) != has_name:
        raise NoShape("the placeholders are not where a recipient's values go")
    return tuple(pieces)


def _check_lines(text: str) -> None:
    """A name only inside a line that holds a space of its own (so never a link, never at a
    paragraph's edge); the link alone on its line."""
    for line in text.splitlines():
        if _NAME in line:
            own = line.replace(_NAME, "")
            if " " not in own or line.startswith(_NAME) or line.endswith(_NAME):
                raise NoShape("a name where it could change the layout")
        if _TOKEN in line and not line.endswith(_TOKEN):
            raise NoShape("the link not at the end of its line")


def _cut(data: bytes, cuts: list[tuple[bytes, Slot]], *, once: bool) -> Pieces:
    pieces: Pieces = (data,)
    for needle, slot in cuts:
        found = sum(p.count(needle) for p in pieces if isinstance(p, bytes))
        if once and found != 1:
            raise NoShape(f"{slot.value} found {found} times")
        pieces = _split_all(pieces, needle, slot)
    return pieces


def _split_all(pieces: Pieces, needle: bytes, slot: Slot) -> Pieces:
    out: list[bytes | Slot] = []
    for piece in pieces:
        if isinstance(piece, Slot):
            out.append(piece)
            continue
        for i, part in enumerate(piece.split(needle)):
            if i:
                out.append(slot)
            out.append(part)
    return tuple(out)


def _merge(pieces: Pieces) -> Pieces:
    return tuple(p for p in pieces if p != b"")
