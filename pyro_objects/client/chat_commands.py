"""The `chat` and `say` commands: chat rooms in the terminal, and one-shot posts."""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import select
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from pyro_objects import names
from pyro_objects.chat import commands, rules
from pyro_objects.chat.subscriber import Subscriber, never_sent
from pyro_objects.client.parsing import arg, command, terminal_columns
from pyro_objects.errors import Error, Refused, Unreachable, UsageError
from pyro_objects.library.results import plural
from pyro_objects.naming import UNREACHABLE

DEFAULT_ROOM = "lobby"
NICK_HELP = "your name in the room: 1 to 32 ASCII letters, digits, - _ or ."
ROOM_HELP = "the room (default: lobby), named as a nick is"
ECHO_WAIT = 2.0     # seconds a piped chat waits at its end for its own messages to come back
# Bidirectional-text controls: they would make a message display as something else.
BIDI_CONTROLS = [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
ESCAPES = {code: chr(code).encode("unicode_escape").decode()
           for code in [*range(0x20), *range(0x7F, 0xA0), *BIDI_CONTROLS]}


def checked(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse type from one of chat.rules' checks."""
    def parse(text: str) -> str:
        try:
            return check(text)
        except (TypeError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def printable(text: str) -> str:
    """`text` with control characters shown as escapes (\\x1b, \\n): a message can neither
    drive the terminal nor pass for several lines."""
    return text.translate(ESCAPES)


def format_event(event: dict) -> str:
    """The line chat mode prints for an event."""
    kind, nick = event["kind"], event.get("nick", "")
    if kind == "message":
        stamp = time.strftime("%H:%M:%S", time.localtime(event["time"]))
        action = commands.action_of(event["text"])
        if action is not None:
            return f"[{stamp}] * {nick} {printable(action)}"
        return f"[{stamp}] <{nick}> {printable(event['text'])}"
    if kind == "entered":
        if event["restarted"]:
            return f"-- the chat server restarted: back in {event['room']}"
        if event["rejoined"]:
            return f"-- the chat server had lost us: back in {event['room']}"
        others = [who for who in event["who"] if who != nick]
        return (f"-- you are {nick} in {event['room']}, with "
                f"{', '.join(others) or 'nobody else'}; /help lists the commands")
    if kind == "gap":
        missed = event["missed"]
        return (f"-- {plural(missed, 'earlier message')} {'is' if missed == 1 else 'are'} "
                f"no longer held")
    return {"joined": f"-- {nick} joined", "left": f"-- {nick} left",
            "dropped": f"-- {nick} was dropped (not responding)"}.get(kind, f"-- {kind}")


class _LineReader:
    """GNU readline through its callback interface, in a select loop of our own: lines that
    arrive while one is typed are printed by this (the main) thread, between keys. Python's
    input() runs readline outside the GIL, where no other thread may safely touch it."""

    def __init__(self, module) -> None:
        self.module = module
        library = ctypes.PyDLL(module.__file__)  # its symbols, and those of libreadline
        self.install = library.rl_callback_handler_install
        self.install.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
        self.read_char = library.rl_callback_read_char
        self.remove = library.rl_callback_handler_remove
        self.redisplay = library.rl_forced_update_display
        self.cleanups = [library.rl_free_line_state, library.rl_callback_sigcleanup,
                         library.rl_cleanup_after_signal, library.rl_callback_handler_remove]
        self.point = ctypes.c_int.in_dll(library, "rl_point")
        ctypes.c_int.in_dll(library, "rl_catch_signals").value = 0  # Python handles Ctrl-C
        self.free = ctypes.CDLL(None).free
        self.free.argtypes = [ctypes.c_void_p]
        self._handler = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(self._line_done)
        self._line: str | None = None
        self._done = False

    def read(self, prompt: str, wake: int, woken: Callable[[], None]) -> str | None:
        """The line typed after `prompt` (None at Ctrl-D); `woken()` runs whenever `wake`
        (a file descriptor) is readable meanwhile."""
        self._done = False
        self.install(prompt.encode(), ctypes.cast(self._handler, ctypes.c_void_p))
        try:
            while not self._done:
                ready, _, _ = select.select([sys.stdin.fileno(), wake], [], [])
                if wake in ready:
                    woken()
                if sys.stdin.fileno() in ready:
                    self.read_char()
        except BaseException:  # Ctrl-C: readline gives the terminal back, as input() does
            for cleanup in self.cleanups:
                cleanup()
            sys.stdout.write("\n")
            raise
        if self._line is None:
            sys.stdout.write("\n")  # Ctrl-D: end the prompt's line
        elif self._line:
            self.module.add_history(self._line)
        return self._line

    def _line_done(self, pointer: int | None) -> None:
        self.remove()
        self._done = True
        if pointer is None:
            self._line = None
            return
        self._line = ctypes.string_at(pointer).decode(errors="replace")
        self.free(pointer)


class Screen:
    """Where chat mode prints. On a terminal, incoming lines appear above the line being
    typed, which is then drawn again as it was; elsewhere they are printed as they come."""

    def __init__(self, stream: TextIO, prompt: str) -> None:
        self.stream, self.prompt = stream, prompt
        self.lock = threading.Lock()
        self.pending: list[str] = []
        self.reader: _LineReader | None = None
        if sys.stdin.isatty() and stream.isatty():
            try:
                import readline
                self.reader = _LineReader(readline)
            except (ImportError, AttributeError, OSError, ValueError):
                pass  # no GNU readline: plain input(), lines printed as they come
        if self.reader is not None:
            self._wake_read, self._wake_write = os.pipe()
            os.set_blocking(self._wake_write, False)
            self._history_length = readline.get_current_history_length()
            self._completer = readline.get_completer()

    def show(self, event: dict) -> None:
        self.print(format_event(event))

    def print(self, line: str) -> None:
        """From any thread: on a terminal the main thread prints it (between keys while a
        line is typed, else after the command); elsewhere at once."""
        with self.lock:
            if self.reader is None:
                self.stream.write(line + "\n")
                self.stream.flush()
                return
            self.pending.append(line)
        try:
            os.write(self._wake_write, b".")
        except BlockingIOError:
            pass  # woken already

    def read(self) -> str | None:
        """The next line typed (without its newline), or None at the end of input."""
        self.flush()
        if self.reader is not None:
            self.stream.flush()
            return self.reader.read(self.prompt, self._wake_read, self._print_while_typing)
        try:
            if sys.stdin.isatty():
                return input(self.prompt)
            line = sys.stdin.readline()
            return line.removesuffix("\n") if line else None
        except EOFError:
            return None

    def sent(self, line: str) -> None:
        """`line` was sent: on a terminal, take it off the screen (it comes back as a
        message, with the others, in order)."""
        if self.reader is not None:
            rows = (len(self.prompt) + len(line) - 1) // self.columns() + 1
            self.stream.write(f"\x1b[{rows}A\r\x1b[J")

    def flush(self) -> None:
        with self.lock:
            lines, self.pending = self.pending, []
        for line in lines:
            self.stream.write(line + "\n")
        self.stream.flush()

    def complete_from(self, words: Callable[[], set[str]]) -> None:
        """Tab completes `words()` (the nicks present) while chatting."""
        if self.reader is not None:
            def complete(text: str, state: int) -> str | None:
                matches = sorted(w for w in words() if w.lower().startswith(text.lower()))
                return matches[state] if state < len(matches) else None

            self.reader.module.set_completer(complete)
            self.reader.module.parse_and_bind("tab: complete")  # Python binds Tab to insert

    def close(self) -> None:
        """Print what is left; on a terminal, give back the completer and the history as
        they were (chat lines are not commands)."""
        self.flush()
        if self.reader is None:
            return
        os.close(self._wake_read)
        os.close(self._wake_write)
        module = self.reader.module
        module.set_completer(self._completer)
        while module.get_current_history_length() > self._history_length:
            module.remove_history_item(module.get_current_history_length() - 1)

    def columns(self) -> int:
        return terminal_columns()

    @contextmanager
    def logging_above(self) -> Iterator[None]:
        """While the block runs, on a terminal, log records that would go to it are printed
        as the screen's lines (above the line being typed), not into that line."""
        root = logging.getLogger()
        replaced = [h for h in root.handlers if self.reader is not None and isinstance(
            h, logging.StreamHandler) and h.stream in (sys.stderr, sys.stdout)]
        for handler in replaced:
            root.removeHandler(handler)
            root.addHandler(_ScreenHandler(self, handler))
        try:
            yield
        finally:
            for handler in [h for h in root.handlers if isinstance(h, _ScreenHandler)]:
                root.removeHandler(handler)
            for handler in replaced:
                root.addHandler(handler)

    def _print_while_typing(self) -> None:
        os.read(self._wake_read, 4096)
        with self.lock:
            lines, self.pending = self.pending, []
        if not lines:
            return
        up = (len(self.prompt) + self.reader.point.value) // self.columns()
        self.stream.write("\r" + (f"\x1b[{up}A" if up else "") + "\x1b[J")
        for line in lines:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.reader.redisplay()  # the prompt and the line being typed, cursor in place


class _ScreenHandler(logging.Handler):
    """Log records as lines of a Screen, formatted and filtered as `instead` did them."""

    def __init__(self, screen: Screen, instead: logging.Handler) -> None:
        super().__init__(instead.level)
        self.screen = screen
        self.setFormatter(instead.formatter)
        self.filters = list(instead.filters)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            for line in self.format(record).splitlines():
                self.screen.print(printable(line))
        except Exception:  # noqa: BLE001 - logging's own rule: a handler never raises
            self.handleError(record)


class ChatCommands:
    """Mixed into the Console, whose `call`, `resolve`, `report` and `stdout` it uses."""

    @command("chat in ROOM (lobby) as NICK: lines typed are sent, messages appear as they "
             "come; /help lists the chat commands",
             arg("nick", metavar="NICK", type=checked(rules.check_nick), help=NICK_HELP),
             arg("--room", metavar="ROOM", default=DEFAULT_ROOM, type=checked(rules.check_room),
                 help=ROOM_HELP))
    def do_chat(self, args: argparse.Namespace) -> None:
        self.resolve(names.CHAT)  # no name server or no chat server: a set-up error, with a hint
        screen = Screen(self.stdout, chat_prompt(args.nick, args.room))
        chat = Chat(self, screen)
        try:
            chat.subscriber = chat.enter(args.room, args.nick)
            screen.complete_from(lambda: chat.subscriber.present)
            with screen.logging_above():
                chat.run()
        finally:
            if chat.subscriber is not None:
                chat.subscriber.leave()
            screen.close()

    @command("post TEXT to ROOM (lobby) as NICK, once, without joining; prints its number",
             arg("nick", metavar="NICK", type=checked(rules.check_nick),
                 help="the nick to post as (one nobody in the room holds)"),
             arg("text", metavar="TEXT", nargs="+", help="the message, 1 to 1000 characters"),
             arg("--room", metavar="ROOM", default=DEFAULT_ROOM, type=checked(rules.check_room),
                 help=ROOM_HELP),
             arg("--id", metavar="ID", type=checked(lambda i: rules.check_id(i, "ID")),
                 help="a message id of your choosing: a retry with the same ID never posts twice"))
    def do_say(self, args: argparse.Namespace) -> None:
        try:
            text = rules.check_text(" ".join(args.text))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        message_id = args.id or uuid.uuid4().hex
        try:
            posted = self.client.post(args.room, args.nick, text, message_id)
        except Unreachable as exc:
            if exc.__cause__ is None or never_sent(exc.__cause__):
                raise  # it certainly was not posted: the error says why
            raise Unreachable(f"{exc}: the message may or may not have been posted",
                              f"send it again with --id {message_id}: with the same id it is "
                              f"posted at most once") from exc.__cause__
        self.show("say", posted)


def chat_prompt(nick: str, room: str) -> str:
    return f"{nick}@{room}> "


class Chat:
    """One chat in the terminal: the lines typed, as chat.commands reads them, for the room
    `subscriber` is in (another after /join)."""

    def __init__(self, console: ChatCommands, screen: Screen) -> None:
        self.console, self.screen = console, screen
        self.subscriber: Subscriber | None = None
        self.unconfirmed: tuple[str, str] | None = None  # (text, id) of a post that may be lost
        self.last_said: int | None = None

    def enter(self, room: str, nick: str) -> Subscriber:
        """A Subscriber joined to `room` as `nick`; raises as the join does."""
        subscriber = Subscriber(room, nick, self.screen.show)
        try:
            subscriber.join(call=lambda method, *rest: self.console.call(names.CHAT, method,
                                                                         *rest))
        except BaseException:
            subscriber.leave()
            raise
        return subscriber

    def run(self) -> None:
        while (typed := self.screen.read()) is not None:
            try:
                line = commands.parse(typed)
            except ValueError as exc:
                self.screen.print(f"-- {exc}")
                continue
            if line.command == "quit":
                break
            self.handle(line, typed)
        if self.last_said is not None and self.screen.reader is None:
            self.subscriber.wait_for(self.last_said, ECHO_WAIT)  # so a piped chat shows it all

    def handle(self, line: commands.Line, typed: str) -> None:
        screen, subscriber = self.screen, self.subscriber
        if line.command == "help":
            for text in commands.HELP:
                screen.print(f"-- {text}")
        elif line.command == "who":
            nicks = self.call(subscriber.who)
            if nicks is not None:
                screen.print(f"-- {commands.who_line(nicks)}")
        elif line.command == "rooms":
            rooms = self.call(subscriber.rooms)
            if rooms is not None:
                screen.print(f"-- {commands.rooms_line(rooms)}")
        elif line.command == "join":
            self.join(line.text)
        elif line.posts:
            seq = self.post(line.posted_text)
            if seq is not None:
                screen.sent(typed)
                self.last_said = seq

    def join(self, room: str) -> None:
        """Leave this room for `room`, as the same nick; stay here if that join fails."""
        if rules.nick_key(room) == rules.nick_key(self.subscriber.room):
            self.screen.print(f"-- you are in {self.subscriber.room} already")
            return
        try:
            entered = self.enter(room, self.subscriber.nick)
        except Error as exc:
            self.console.report(exc)
            return
        left, self.subscriber = self.subscriber, entered
        self.screen.prompt = chat_prompt(entered.nick, entered.room)
        self.unconfirmed = self.last_said = None
        left.leave()

    def post(self, text: str) -> int | None:
        """Post `text`; its number, or None when it failed (reported). Typed again after a
        failure that may have posted it, it goes with the same message id: posted once."""
        try:
            rules.check_text(text)
        except ValueError as exc:
            self.console.report(Refused(f"not sent: {exc}"))
            return None
        if self.unconfirmed is None or self.unconfirmed[0] != text:
            self.unconfirmed = text, uuid.uuid4().hex
        try:
            seq = self.subscriber.say(text, self.unconfirmed[1])
        except UNREACHABLE as exc:
            if never_sent(exc):
                self.unconfirmed = None
                self.console.report(Unreachable(
                    f"not sent: the chat server cannot be reached ({exc})",
                    "it may be restarting: try again in a moment"))
            else:
                self.console.report(Unreachable(
                    f"the chat server did not answer ({exc}): the message may or may not "
                    f"have been posted",
                    "type it again: the same text is sent with the same message id, and "
                    "posted at most once"))
            return None
        except (TypeError, ValueError, LookupError, RuntimeError) as exc:
            self.unconfirmed = None
            self.console.report(Refused(f"not sent: {exc}"))
            return None
        self.unconfirmed = None
        return seq

    def call(self, method: Callable, *args: object) -> object:
        """method(*args), a question to the chat server; a failure is reported (and counted)
        without ending the chat."""
        try:
            return method(*args)
        except UNREACHABLE as exc:
            self.console.report(Unreachable(f"the chat server did not answer ({exc})",
                                            "it may be restarting: try again in a moment"))
        except Exception as exc:
            if not hasattr(exc, "_pyroTraceback"):  # raised here, not by the chat server
                raise
            self.console.report(Refused(f"refused: {exc}"))
        return None
