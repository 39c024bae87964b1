"""The `chat` and `say` commands: chat rooms in the terminal, and one-shot posts."""

from __future__ import annotations

import argparse
import ctypes
import os
import select
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import TextIO

from pyro_objects.chat import rules
from pyro_objects.chat.subscriber import Subscriber
from pyro_objects.client.parsing import arg, command
from pyro_objects import names
from pyro_objects.errors import Refused, Unreachable, UsageError
from pyro_objects.naming import UNREACHABLE

DEFAULT_ROOM = "lobby"
ECHO_WAIT = 2.0     # seconds a piped chat waits at its end for its own messages to come back
CHAT_HELP = "-- /who: who is here; /quit (or Ctrl-D): leave; start a message with // to send a /"
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
        return f"[{stamp}] <{nick}> {printable(event['text'])}"
    if kind == "entered":
        if event["restarted"]:
            return f"-- the chat server restarted: back in {event['room']}"
        if event["rejoined"]:
            return f"-- the chat server had lost us: back in {event['room']}"
        others = [who for who in event["who"] if who != nick]
        return (f"-- you are {nick} in {event['room']}, with "
                f"{', '.join(others) or 'nobody else'}; /quit to leave")
    if kind == "gap":
        return f"-- {event['missed']} earlier message(s) are no longer held"
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
        return max(1, shutil.get_terminal_size().columns)

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


class ChatCommands:
    """Mixed into the Console, whose `call`, `resolve`, `report` and `stdout` it uses."""

    @command("chat in ROOM (lobby) as NICK: lines typed are sent, messages appear as they "
             "come; /who, /quit",
             arg("nick", metavar="NICK", type=checked(rules.check_nick)),
             arg("--room", metavar="ROOM", default=DEFAULT_ROOM, type=checked(rules.check_room)))
    def do_chat(self, args: argparse.Namespace) -> None:
        self.resolve(names.CHAT)  # no name server or no chat server: a set-up error, with a hint
        screen = Screen(self.stdout, f"{args.nick}@{args.room}> ")
        subscriber = None
        try:
            subscriber = Subscriber(args.room, args.nick, screen.show)
            subscriber.join(call=lambda method, *rest: self.call(names.CHAT, method, *rest))
            screen.complete_from(lambda: subscriber.present)
            self._chat(subscriber, screen)
        finally:
            if subscriber is not None:
                subscriber.leave()
            screen.close()

    def _chat(self, subscriber: Subscriber, screen: Screen) -> None:
        last_said = None
        while (line := screen.read()) is not None:
            command = line.strip()
            if command in ("/quit", "/exit"):
                break
            if command == "/who":
                screen.print(f"-- here: {', '.join(self._chat_call(subscriber.who) or [])}")
            elif command.startswith("/") and not line.startswith("//"):
                screen.print(f"-- unknown command {command.split()[0]}")
                screen.print(CHAT_HELP)
            elif command:
                text = line[1:] if line.startswith("//") else line
                seq = self._chat_call(subscriber.say, text)
                if seq is not None:
                    screen.sent(line)
                    last_said = seq
        if last_said is not None and screen.reader is None:
            subscriber.wait_for(last_said, ECHO_WAIT)  # so that a piped chat shows it all

    def _chat_call(self, method: Callable, *args: object) -> object:
        """method(*args); a failure is reported (and counted) without ending the chat."""
        try:
            return method(*args)
        except UNREACHABLE as exc:
            self.report(Unreachable(f"the chat server did not answer ({exc}): the message may "
                                    f"or may not have been posted",
                                    "it may be restarting: try again in a moment"))
        except (TypeError, ValueError, LookupError, RuntimeError) as exc:
            self.report(Refused(f"not sent: {exc}"))
        return None

    @command("post TEXT to ROOM (lobby) as NICK, once, without joining",
             arg("nick", metavar="NICK", type=checked(rules.check_nick)),
             arg("text", metavar="TEXT", nargs="+"),
             arg("--room", metavar="ROOM", default=DEFAULT_ROOM, type=checked(rules.check_room)),
             arg("--id", metavar="ID", type=checked(lambda i: rules.check_id(i, "ID")),
                 help="a message id of your choosing: a retry with the same ID never posts twice"))
    def do_say(self, args: argparse.Namespace) -> None:
        try:
            text = rules.check_text(" ".join(args.text))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        self.call(names.CHAT, "post", args.room, args.nick, text, args.id or uuid.uuid4().hex)
