#!/usr/bin/env python3
"""Warden shell console driver: expect-style control of the guest's shell.

This file owns:
  * ShellConsole     - the host side of the guest's serial console when a test
                       talks to the interactive shell.  QEMU serves the serial
                       port on a unix socket (qemu_args()); connect() attaches
                       to it, a reader thread collects everything the guest
                       prints, expect()/wait_prompt()/command() wait for text
                       and send() types keystrokes.
  * apply_backspaces - a pure helper that applies the shell's "\\b" erase
                       sequences to captured text.
  * parse_table      - a pure helper that splits a command's column-aligned
                       table output into dicts.
  * the exceptions   - ConsoleError (base, an AssertionError so a failed wait
                       reads as a test failure), ExpectTimeout (a wait ran out
                       of time) and ConsoleClosed (the connection ended first;
                       a subclass of ExpectTimeout, so one except clause covers
                       "did not see what was expected").

What the driver assumes of the guest shell (tests/shellconsole_selftest.py
emulates it):
  * the prompt is "warden> " with no newline after it;
  * lines end with "\\r\\n" (the kernel turns "\\n" into "\\r\\n");
  * printable keystrokes are echoed, Enter is "\\r" (echoed as a line end),
    backspace 0x7f echoes "\\b \\b", Ctrl-U 0x15 echoes "\\b \\b" once per
    character, Ctrl-C 0x03 prints "^C\\r\\n" and a new prompt, and the up/down
    arrows "\\x1b[A"/"\\x1b[B" erase the line with "\\b \\b" and print the
    recalled one;
  * a command's output follows its echoed line and ends at the next prompt.

Typical use (QEMU blocks at start-up until connect() attaches, so no output
is lost):

    con = ShellConsole(os.path.join(tmpdir, 'con.sock'), log_path='shell.log')
    proc = subprocess.Popen([qemu, ..., *con.qemu_args()])
    con.connect(timeout=10, proc=proc)
    con.wait_prompt(timeout=60)           # boot
    out = con.command('echo hi')          # -> 'hi\\n'
    con.close()

Positions and matching: the driver keeps a read position in the text received
so far.  expect() matches only the text after it and moves it to the end of
the match; match offsets are relative to that text.  The text matched is raw:
it still contains "\\r" and the echo of what was typed.  No fixed sleeps: every
wait blocks on a threading.Condition the reader signals, and every wait has a
timeout.

Python 3.11 standard library only.
"""

import codecs
import io
import os
import re
import select
import socket
import threading
import time

__all__ = ['ShellConsole', 'ConsoleError', 'ExpectTimeout', 'ConsoleClosed',
           'apply_backspaces', 'parse_table', 'PROMPT', 'PROMPT_RE']

PROMPT = 'warden> '
PROMPT_RE = re.escape(PROMPT)

TAIL_CHARS = 800          # how much unread text a failed wait shows
SEND_TIMEOUT = 10.0       # seconds a send() may block (guest not reading)
CLOSE_JOIN_TIMEOUT = 5.0  # seconds close() waits for the reader to finish
UNIX_PATH_MAX = 107       # sun_path is 108 bytes including the NUL


class ConsoleError(AssertionError):
    """Base of the console's failures (an AssertionError: a test failure)."""


class ExpectTimeout(ConsoleError):
    """A wait for console output did not succeed in time."""


class ConsoleClosed(ExpectTimeout):
    """The console connection ended (or was closed) before the wait
    succeeded, or a send() was attempted on a closed console."""


def _show(text):
    """Text for an error message: line ends kept, other control characters
    (escape sequences, backspaces, stray CRs) shown as escapes."""
    text = text.replace('\r\n', '\n')
    return ''.join(c if c == '\n' or c == '\t' or c >= ' ' and c != '\x7f'
                   else repr(c)[1:-1] for c in text)


def apply_backspaces(text):
    """Apply "\\b" as "delete the previous character on the same line".

    The shell's erase echo "\\b \\b" therefore vanishes together with the
    character it erased; a "\\b" at the start of a line (nothing left to
    erase on it) is dropped.  Nothing else is interpreted."""
    if '\b' not in text:
        return text
    out = []
    line_start = 0              # index in out just after the last '\n'
    for c in text:
        if c == '\b':
            if len(out) > line_start:
                out.pop()
        else:
            out.append(c)
            if c == '\n':
                line_start = len(out)
    return ''.join(out)


# A header column name: words separated by single spaces; columns are
# separated by two or more spaces.
_COLUMN = re.compile(r'\S+(?: \S+)*')
# A rule under the header ("----  ------"), skipped before the first row.
_RULE = re.compile(r'^[\s=-]*[=-]{3}[\s=-]*$')


def parse_table(text):
    """Split column-aligned table output into a list of dicts.

    The first non-empty line is the header: column names separated by two or
    more spaces (a name may contain single spaces, e.g. "POOL USED").  Each
    following non-empty line is sliced at the header's column start offsets
    and each cell stripped, so values must start at or after their column's
    header start (left-aligned, or right-aligned within the header width).
    A missing trailing cell is ''.  Blank lines and a dashed rule line
    between the header and the first row are skipped; the first empty line
    after the rows have started ends the table.  "\\r" is ignored."""
    lines = text.replace('\r', '').split('\n')
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        return []
    columns = [(m.start(), m.group()) for m in _COLUMN.finditer(lines[i])]
    rows = []
    for line in lines[i + 1:]:
        if not line.strip():
            if rows:
                break
            continue
        if not rows and _RULE.match(line):
            continue
        row = {}
        for k, (start, name) in enumerate(columns):
            end = columns[k + 1][0] if k + 1 < len(columns) else None
            row[name] = line[start:end].strip()
        rows.append(row)
    return rows


class ShellConsole:
    """The host end of the guest's serial console, on a unix socket."""

    def __init__(self, sock_path, log_path=None, prompt=PROMPT_RE):
        """sock_path: the unix socket QEMU will serve the console on.
        log_path: if given, every byte received is also written there raw
        (the file is created by connect()).  prompt: the prompt regex
        (default the literal "warden> ").  Does not connect."""
        if len(os.fsencode(sock_path)) > UNIX_PATH_MAX:
            raise ValueError(f'unix socket path too long (max '
                             f'{UNIX_PATH_MAX} bytes): {sock_path}')
        self.sock_path = sock_path
        self.log_path = log_path
        self.prompt = prompt
        self._cond = threading.Condition()
        # Everything below is guarded by _cond.
        self._text = io.StringIO()     # the whole decoded transcript
        self._unread = ''              # transcript[_pos:]
        self._pos = 0                  # read position (chars)
        self._eof = False
        self._eof_reason = None
        # Owned by the reader thread once it runs.
        self._decoder = codecs.getincrementaldecoder('utf-8')('replace')
        self._sock = None              # blocking; send() uses MSG_DONTWAIT
        self._log = None
        self._reader = None
        self._closing = False

    # ---- setup / teardown ------------------------------------------------

    def qemu_args(self):
        """QEMU arguments that serve the serial port on sock_path and wait
        (before starting the guest) until a client connects."""
        return ['-chardev',
                f'socket,id=con0,path={self.sock_path},server=on,wait=on',
                '-serial', 'chardev:con0']

    def connect(self, timeout=10.0, proc=None):
        """Connect to sock_path, retrying while the socket does not exist
        yet or does not accept (QEMU creates it shortly after it starts).
        proc: optionally the QEMU subprocess.Popen; if it exits first,
        ConnectionError is raised at once.  Raises TimeoutError if no
        connection is made within timeout seconds.  Starts the reader."""
        if self._sock is not None or self._closing:
            raise RuntimeError('ShellConsole.connect() called twice')
        deadline = time.monotonic() + timeout
        delay = 0.005
        last_err = None
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock_path)
                break
            except (FileNotFoundError, ConnectionRefusedError) as e:
                s.close()
                last_err = e
            except BaseException:
                s.close()
                raise
            if proc is not None and proc.poll() is not None:
                raise ConnectionError(
                    f'shell console: QEMU exited (status {proc.returncode}) '
                    f'before {self.sock_path} accepted a connection')
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f'shell console: could not connect to {self.sock_path} '
                    f'within {timeout:g}s (last error: '
                    f'{last_err.strerror if last_err else "none"})')
            # Polling for a file someone else creates: a short, growing
            # back-off (nothing to wait on until the socket exists).
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.1)
        self._sock = s
        if self.log_path is not None:
            self._log = open(self.log_path, 'wb')
        self._reader = threading.Thread(target=self._read_loop,
                                        name='shellconsole-reader',
                                        daemon=True)
        self._reader.start()

    def close(self):
        """Close the connection; the reader thread sees EOF and ends.
        Waits for it (bounded), so the log is complete afterwards.  Safe to
        call more than once, or without connect()."""
        self._closing = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)   # wakes the reader
            except OSError:
                pass
        if self._reader is not None:    # it closes the log
            self._reader.join(CLOSE_JOIN_TIMEOUT)
        if self._sock is not None:
            self._sock.close()
        with self._cond:
            if not self._eof:
                self._eof = True
                self._eof_reason = 'console closed by close()'
            self._cond.notify_all()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- the reader --------------------------------------------------------

    def _read_loop(self):
        reason = 'connection closed by the other end'
        try:
            while True:
                try:
                    data = self._sock.recv(65536)
                except OSError as e:
                    reason = f'connection error: {e}'
                    break
                if not data:
                    break
                if self._log is not None:
                    self._log.write(data)
                    self._log.flush()
                self._append(self._decoder.decode(data))
        finally:
            if self._closing:
                reason = 'console closed by close()'
            tail = self._decoder.decode(b'', final=True)
            with self._cond:
                self._add_text(tail)
                self._eof = True
                self._eof_reason = reason
                self._cond.notify_all()
            if self._log is not None:
                self._log.close()

    def _append(self, text):
        if text:
            with self._cond:
                self._add_text(text)
                self._cond.notify_all()

    def _add_text(self, text):      # caller holds _cond
        self._text.write(text)
        self._unread += text

    # ---- reading -----------------------------------------------------------

    def transcript(self):
        """Everything received so far, decoded as UTF-8 (errors replaced),
        raw: "\\r", echoes and escape sequences included."""
        with self._cond:
            return self._text.getvalue()

    @property
    def pos(self):
        """The read position: how many characters of transcript() have
        been consumed by expect()/wait_prompt()/command()."""
        with self._cond:
            return self._pos

    @property
    def eof(self):
        """True once the connection has ended (no more output will come)."""
        with self._cond:
            return self._eof

    def expect(self, regex, timeout=10.0):
        """Wait until regex matches the text received after the read
        position, move the read position to the match's end and return the
        re.Match (offsets relative to the text after the old position).

        regex: a str (compiled with re.MULTILINE) or a compiled pattern.
        Raises ExpectTimeout after timeout seconds, or ConsoleClosed as soon
        as the connection has ended without a match; either message names
        the regex and shows the last 800 characters after the position."""
        return self._expect(regex, time.monotonic() + timeout, timeout)

    def _expect(self, regex, deadline, timeout, what=None):
        pattern = (regex if isinstance(regex, re.Pattern)
                   else re.compile(regex, re.MULTILINE))
        with self._cond:
            while True:
                m = pattern.search(self._unread)
                if m:
                    self._pos += m.end()
                    self._unread = self._unread[m.end():]
                    return m
                if self._eof:
                    raise ConsoleClosed(self._failure(
                        pattern, what, f'{self._eof_reason} before a match'))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ExpectTimeout(self._failure(
                        pattern, what, f'timed out after {timeout:g}s'))
                self._cond.wait(remaining)

    def _failure(self, pattern, what, why):     # caller holds _cond
        tail = self._unread[-TAIL_CHARS:]
        cut = len(self._unread) - len(tail)
        head = f'{what}: ' if what else ''
        return (f'{head}expect {pattern.pattern!r}: {why}; last {len(tail)} '
                f'characters received after the read position'
                f'{f" ({cut} earlier ones not shown)" if cut else ""}:\n'
                f'{_show(tail)}\n[end of received text]')

    def wait_prompt(self, timeout=30.0):
        """Wait for the next prompt (e.g. after boot or after Ctrl-C);
        returns the re.Match."""
        return self.expect(self.prompt, timeout)

    # ---- writing -----------------------------------------------------------

    def send(self, data):
        """Write raw keystrokes (bytes, or str encoded as UTF-8).  Raises
        ConsoleClosed if the console is closed, TimeoutError if the guest
        stops taking input for SEND_TIMEOUT seconds."""
        if isinstance(data, str):
            data = data.encode('utf-8')
        if self._sock is None:
            raise RuntimeError('ShellConsole.send() before connect()')
        with self._cond:
            if self._closing or self._eof:
                raise ConsoleClosed(f'send() on a closed console '
                                    f'({self._eof_reason or "close()"})')
        # The socket stays blocking for the reader (a socket timeout would
        # make the shared descriptor non-blocking), so bound the write with
        # poll() and non-blocking sends instead.
        deadline = time.monotonic() + SEND_TIMEOUT
        view = memoryview(data)
        try:
            poller = select.poll()
            poller.register(self._sock, select.POLLOUT)
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not poller.poll(remaining * 1000):
                    raise TimeoutError(
                        f'shell console: send of {len(data)} bytes blocked '
                        f'for {SEND_TIMEOUT:g}s ({len(view)} unsent)')
                try:
                    view = view[self._sock.send(view, socket.MSG_DONTWAIT):]
                except BlockingIOError:
                    pass
        except TimeoutError:
            raise
        except (OSError, ValueError) as e:      # EPIPE, reset, closed fd
            raise ConsoleClosed(f'send() failed: {e}') from e

    def command(self, line, timeout=20.0):
        """Type line and Enter, wait for the next prompt, return the output.

        Text received but not yet read when command() is called is skipped
        (it cannot be this command's output), so call it when the shell is
        at a prompt.  The result is what came between the echoed line and
        the prompt, with "\\r" removed and backspace erases applied; the
        echo line (everything up to the first "\\n") is dropped.  E.g.
        command('echo hi') -> 'hi\\n'.  One deadline covers the whole wait;
        failures raise ExpectTimeout/ConsoleClosed naming the command."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._pos += len(self._unread)
            self._unread = ''
        self.send(line + '\r')
        what = f'command {line!r}'
        self._expect(r'\n', deadline, timeout, what)         # end of echo
        m = self._expect(self.prompt, deadline, timeout, what)
        return apply_backspaces(m.string[:m.start()].replace('\r', ''))
