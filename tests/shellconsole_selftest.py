#!/usr/bin/env python3
"""Offline self-test of tests/shellconsole.py (no QEMU needed).

This file owns:
  * FakeShell - a thread that plays the guest: it serves a unix socket in a
                temp dir (optionally only after a delay, like QEMU starting
                up) and emulates the Warden shell's line editing on it
                (echo, backspace, Ctrl-U, Ctrl-C, up/down history, "warden> "
                prompt, "\\n" -> "\\r\\n") with the commands
                  echo X  prints X
                  table   prints a small aligned table
                  slow    prints output in chunks with small delays (a UTF-8
                          character and the prompt split across chunks)
                  spin    prints a line that rewrites itself with "\\b"
                  bye     closes the connection
  * the checks - table of test functions run against ShellConsole and the
                pure helpers.

Usage: python3 tests/shellconsole_selftest.py
The last line printed is "shellconsole selftest: N passed, M failed"; the
exit status is 0 only if nothing failed.  Runs in well under 5 seconds.

Python 3.11 standard library only.
"""

import os
import socket
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shellconsole import (ShellConsole, ExpectTimeout, ConsoleClosed,  # noqa: E402
                          ConsoleError, apply_backspaces, parse_table)

PROMPT = 'warden> '

TABLE = ('POOL          POOL USED  FREE\n'
         'kernel        12 KiB     500 KiB\n'
         'user heap     3 MiB      1 MiB\n'
         'dma           0          64 KiB\n'
         '\n')


class FakeShell(threading.Thread):
    """The guest side: one connection on a unix socket, a line editor."""

    def __init__(self, path, delay=0.0):
        super().__init__(name='fake-shell', daemon=True)
        self.path = path
        self.delay = delay
        self.conn = None

    def out(self, text):
        self.conn.sendall(text.replace('\n', '\r\n').encode('utf-8'))

    def run(self):
        if self.delay:
            time.sleep(self.delay)      # QEMU not up yet: no socket file
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(self.path)
        srv.listen(1)
        srv.settimeout(5)
        try:
            self.conn, _ = srv.accept()
        except OSError:
            return
        finally:
            srv.close()
        self.conn.settimeout(10)        # never outlive the test for long
        try:
            self.out('Warden booting\nshell: ready\n' + PROMPT)
            self.edit_loop()
        except OSError:
            pass
        finally:
            self.conn.close()

    def edit_loop(self):
        line, history, hist = '', [], 0
        esc = b''
        while True:
            data = self.conn.recv(1024)
            if not data:
                return
            for b in data:
                if esc or b == 0x1b:            # "\x1b[A" / "\x1b[B"
                    esc += bytes([b])
                    if len(esc) < 3:
                        continue
                    if esc in (b'\x1b[A', b'\x1b[B') and history:
                        hist = (max(hist - 1, 0) if esc == b'\x1b[A'
                                else min(hist + 1, len(history) - 1))
                        self.out('\b \b' * len(line))
                        line = history[hist]
                        self.out(line)
                    esc = b''
                elif b == 0x7f:
                    if line:
                        line = line[:-1]
                        self.out('\b \b')
                elif b == 0x15:
                    self.out('\b \b' * len(line))
                    line = ''
                elif b == 0x03:
                    self.out('^C\n' + PROMPT)
                    line = ''
                elif b == 0x0d:
                    self.out('\n')
                    if line:
                        history.append(line)
                    hist = len(history)
                    if not self.run_command(line):
                        return
                    line = ''
                elif 0x20 <= b < 0x7f:
                    line += chr(b)
                    self.out(chr(b))

    def run_command(self, line):
        """Print the command's output and the next prompt; False to hang up."""
        word, _, arg = line.partition(' ')
        if word == 'echo':
            self.out(arg + '\n')
        elif word == 'table':
            self.out(TABLE)
        elif word == 'slow':
            # Raw byte chunks: a line split in two, and the UTF-8 "\xe9"
            # (2 bytes) split between chunks.
            cafe = 'caf\xe9 '.encode('utf-8')
            chunks = [b'slow line 1\r\nslow ', b'line 2\r\n', cafe[:4],
                      cafe[4:], b'done\r\n']
            for chunk in chunks:
                self.conn.sendall(chunk)
                time.sleep(0.02)
            self.out('warde')   # the prompt split across chunks too
            time.sleep(0.02)
            self.out('n> ')
            return True
        elif word == 'spin':
            self.out('progress: 1\b2\b3\b \bdone\n')
        elif word == 'bye':
            return False
        elif word:
            self.out(f'unknown command: {word}\n')
        self.out(PROMPT)
        return True


class Session:
    """A fake shell plus a connected ShellConsole, torn down on exit."""

    def __init__(self, delay=0.0, log=False):
        self.dir = tempfile.TemporaryDirectory(prefix='shcon')
        path = os.path.join(self.dir.name, 'con.sock')
        self.log_path = os.path.join(self.dir.name, 'con.log') if log else None
        self.shell = FakeShell(path, delay)
        self.con = ShellConsole(path, log_path=self.log_path)

    def __enter__(self):
        self.shell.start()
        self.con.connect(timeout=3)
        self.con.wait_prompt(timeout=3)
        return self.con

    def __exit__(self, *exc):
        self.con.close()
        self.shell.join(2)
        self.dir.cleanup()


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def eq(got, want):
    check(got == want, f'got {got!r}, want {want!r}')


# ---- the checks ------------------------------------------------------------

def t_qemu_args():
    con = ShellConsole('/tmp/x.sock')
    eq(con.qemu_args(), ['-chardev',
                         'socket,id=con0,path=/tmp/x.sock,server=on,wait=on',
                         '-serial', 'chardev:con0'])


def t_connect_retries():
    t0 = time.monotonic()
    with Session(delay=0.3) as con:
        check(time.monotonic() - t0 >= 0.3, 'connected before the socket '
              'existed?')
        check('shell: ready' in con.transcript(), 'banner missing')


def t_connect_timeout():
    with tempfile.TemporaryDirectory(prefix='shcon') as d:
        path = os.path.join(d, 'none.sock')
        con = ShellConsole(path)
        t0 = time.monotonic()
        try:
            con.connect(timeout=0.3)
        except TimeoutError as e:
            check(path in str(e), f'path not in message: {e}')
        else:
            raise AssertionError('connect() to nothing succeeded')
        check(time.monotonic() - t0 < 1.0, 'connect timeout too slow')


def t_command_echo():
    with Session() as con:
        eq(con.command('echo hello world'), 'hello world\n')
        eq(con.command('echo second'), 'second\n')
        eq(con.command(''), '')
        eq(con.command('frob'), 'unknown command: frob\n')


def t_command_prompt_in_line():
    with Session() as con:      # "warden> " inside the echoed line
        eq(con.command('frob warden> '), 'unknown command: frob\n')


def t_backspace():
    with Session() as con:
        eq(con.command('echo abx\x7fc'), 'abc\n')
        eq(con.command('echo zz\x7f\x7f\x7f ok'), 'ok\n')    # 'echo ok'


def t_backspace_in_output():
    with Session() as con:
        eq(con.command('spin'), 'progress: done\n')


def t_ctrl_u():
    with Session() as con:
        eq(con.command('garbage here\x15echo fresh'), 'fresh\n')


def t_ctrl_c():
    with Session() as con:
        con.send('half typed\x03')
        con.expect(r'\^C\r\n', 2)
        con.wait_prompt(2)
        eq(con.command('echo after'), 'after\n')


def t_history():
    with Session() as con:
        con.command('echo one')
        con.command('echo two')
        con.send(b'\x1b[A')
        eq(con.command(''), 'two\n')             # recalled over an erase
        con.send(b'\x1b[A' * 3)                  # two, two, one
        eq(con.command(''), 'one\n')


def t_slow_chunks():
    with Session() as con:
        out = con.command('slow', timeout=3)
        eq(out, 'slow line 1\nslow line 2\ncaf\xe9 done\n')
        check('\ufffd' not in con.transcript(), 'split UTF-8 mangled')


def t_log_file():
    s = Session(log=True)
    with s as con:
        con.command('echo logged')
        con.close()
        text = con.transcript()
        with open(s.log_path, 'rb') as f:      # close() finished the log
            raw = f.read()
    eq(raw.decode('utf-8'), text)
    check(b'echo logged\r\nlogged\r\nwarden> ' in raw, 'log content')


def t_expect_timeout():
    with Session() as con:
        con.send('echo marker-text\r')
        con.expect('marker-text\r\n', 2)       # past the echo
        t0 = time.monotonic()
        try:
            con.expect(r'never-\d+', 0.5)
        except ExpectTimeout as e:
            took = time.monotonic() - t0
            msg = str(e)
            check(not isinstance(e, ConsoleClosed), 'wrong class')
            check(isinstance(e, AssertionError), 'not an AssertionError')
            check(r'never-\\d+' in msg or r'never-\d+' in msg,
                  f'regex not in message: {msg}')
            check('marker-text' in msg and 'warden> ' in msg,
                  f'tail not in message: {msg}')
        else:
            raise AssertionError('expect() matched nothing but returned')
        check(0.5 <= took < 1.0, f'timeout took {took:.2f}s')
        # A failed wait leaves the position alone: the prompt is still there.
        con.wait_prompt(1)


def t_expect_position():
    with Session() as con:
        con.send('echo a1 b2 a3\r')
        m = con.expect(r'a(\d)', 2)
        eq(m.group(1), '1')                    # the echo
        eq(con.expect(r'a(\d)', 2).group(1), '3')
        eq(con.expect(r'^a(\d)', 2).group(1), '1')   # the output line
        con.wait_prompt(2)
        eq(con.transcript()[con.pos - len('warden> '):], 'warden> ')


def t_server_close():
    with Session() as con:
        con.send('bye\r')
        t0 = time.monotonic()
        try:
            con.expect('never', 5)
        except ConsoleClosed as e:
            check('closed' in str(e), f'message: {e}')
        else:
            raise AssertionError('expect() after EOF returned')
        check(time.monotonic() - t0 < 1.0, 'EOF not noticed promptly')
        check(con.eof, 'eof not set')
        try:
            con.command('echo x', timeout=5)
        except ConsoleError:
            pass
        else:
            raise AssertionError('command() after EOF returned')


def t_close_ends_reader():
    s = Session()
    with s as con:
        con.close()
        check(not con._reader.is_alive(), 'reader still running')
        try:
            con.expect('x', 5)
        except ConsoleClosed:
            pass
        else:
            raise AssertionError('expect() after close() returned')
        try:
            con.send('x')
        except ConsoleClosed:
            pass
        else:
            raise AssertionError('send() after close() returned')


def t_apply_backspaces():
    eq(apply_backspaces('abc\b \b'), 'ab')
    eq(apply_backspaces('ab\bc'), 'ac')
    eq(apply_backspaces('\bx'), 'x')
    eq(apply_backspaces('a\n\b\bb'), 'a\nb')         # not across lines
    eq(apply_backspaces('abc' + '\b \b' * 3 + 'xy'), 'xy')
    eq(apply_backspaces('plain'), 'plain')


def t_parse_table_fake():
    with Session() as con:
        rows = parse_table(con.command('table'))
    eq(rows, [
        {'POOL': 'kernel', 'POOL USED': '12 KiB', 'FREE': '500 KiB'},
        {'POOL': 'user heap', 'POOL USED': '3 MiB', 'FREE': '1 MiB'},
        {'POOL': 'dma', 'POOL USED': '0', 'FREE': '64 KiB'},
    ])


def t_parse_table_edges():
    eq(parse_table(''), [])
    eq(parse_table('\n  \nA  B\n'), [])
    text = ('\nID  NAME    STATE\n'
            '--  ------  -----\n'
            '\n'
            '1   init    run\r\n'
            '22  sh\n'
            '\n'
            '3   after   blank\n')
    eq(parse_table(text), [{'ID': '1', 'NAME': 'init', 'STATE': 'run'},
                           {'ID': '22', 'NAME': 'sh', 'STATE': ''}])


TESTS = [v for k, v in list(globals().items()) if k.startswith('t_')]


def main():
    passed = failed = 0
    t_all = time.monotonic()
    for test in TESTS:
        name = test.__name__[2:]
        t0 = time.monotonic()
        try:
            test()
        except Exception as e:     # noqa: BLE001 (report, keep going)
            failed += 1
            print(f'FAIL {name}: {type(e).__name__}: {e}')
            traceback.print_exc(limit=3, file=sys.stdout)
        else:
            passed += 1
            print(f'ok   {name} ({time.monotonic() - t0:.2f}s)')
    print(f'total {time.monotonic() - t_all:.2f}s')
    print(f'shellconsole selftest: {passed} passed, {failed} failed')
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == '__main__':
    sys.exit(main())
