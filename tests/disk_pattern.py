#!/usr/bin/env python3
"""Disk-image patterns for the harness's disk tests: the host's side.

This file owns:
  * splitmix64()     - the word generator.  The guest must compute the same
                       words to check what the host wrote and to write what
                       the host checks.
  * pattern_bytes()  - the pattern for a seed: the 64-bit little-endian word
                       at disk byte offset 8*i is splitmix64((seed + i) mod
                       2^64), for every i from the start of the disk.
  * make_image()     - writes a whole image file with a seed's pattern.
  * check_range()    - compares part of an image file with a seed's pattern
                       and describes the differences (empty list = same).
  * --selftest       - checks of the above; last line "N passed, M failed".

tests/harness.py uses it for configs with a 'disk' key.

Python 3.11 standard library only.
"""

import os
import sys
import tempfile
import time
from array import array

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
MUL1 = 0xBF58476D1CE4E5B9
MUL2 = 0x94D049BB133111EB

CHUNK = 1 << 20         # bytes of pattern built (or compared) at a time
MAX_REPORTED = 4        # mismatching words described one by one


def splitmix64(x):
    """One splitmix64 output for state x (the reference, one word)."""
    z = (x + GOLDEN) & MASK64
    z = ((z ^ (z >> 30)) * MUL1) & MASK64
    z = ((z ^ (z >> 27)) * MUL2) & MASK64
    return z ^ (z >> 31)


def _lanes(n, value):
    """An int made of n 128-bit lanes, each holding value (< 2^64)."""
    return int.from_bytes(value.to_bytes(16, 'little') * n, 'little')


def _words(first, n):
    """n pattern words, splitmix64(first + j) for j < n, as little-endian
    bytes.  Word j is computed in lane j of one big int: lanes are 128 bits
    wide and masked to 64 bits before each multiplication, so no product,
    carry or shift reaches a neighbouring lane.  Same result as calling
    splitmix64() n times, but at C speed."""
    index = array('Q', bytes(16 * n))
    index[::2] = array('Q', range(n))            # lane j holds j
    if sys.byteorder == 'big':
        index.byteswap()
    low = _lanes(n, MASK64)
    z = int.from_bytes(index.tobytes(), 'little')
    z = (z + _lanes(n, (first + GOLDEN) & MASK64)) & low
    z = (((z ^ (z >> 30)) & low) * MUL1) & low
    z = (((z ^ (z >> 27)) & low) * MUL2) & low
    z = (z ^ (z >> 31)) & low
    return array('Q', z.to_bytes(16 * n, 'little'))[::2].tobytes()


def pattern_bytes(seed, start_byte, length):
    """The pattern for seed at disk bytes [start_byte, start_byte+length)."""
    if start_byte % 8 or length % 8 or start_byte < 0 or length < 0:
        raise ValueError('start_byte and length must be non-negative '
                         'multiples of 8')
    first = seed + start_byte // 8
    step = CHUNK // 8
    return b''.join(_words(first + i, min(step, length // 8 - i))
                    for i in range(0, length // 8, step))


def make_image(path, size_bytes, seed):
    """Write an image file of size_bytes holding the pattern for seed."""
    if size_bytes % (1 << 20) or size_bytes <= 0:
        raise ValueError('image size must be a positive multiple of 1 MiB')
    with open(path, 'wb') as f:
        for offset in range(0, size_bytes, CHUNK):
            f.write(pattern_bytes(seed, offset, CHUNK))


def _word(data, i):
    return int.from_bytes(data[8 * i:8 * i + 8], 'little')


def check_range(path, seed, start, end):
    """How bytes [start, end) of the image at path differ from the pattern
    for seed: a list of human-readable problems (empty = they match)."""
    if start % 8 or end % 8 or not 0 <= start <= end:
        return [f'bad range [{start:#x}, {end:#x}): need 0 <= start <= end, '
                'both multiples of 8']
    problems, bad = [], 0
    try:
        with open(path, 'rb') as f:
            size = os.fstat(f.fileno()).st_size
            if size < end:
                return [f'{path} is {size} bytes, shorter than the range '
                        f'[{start:#x}, {end:#x}) to check']
            f.seek(start)
            for offset in range(start, end, CHUNK):
                n = min(CHUNK, end - offset)
                actual = f.read(n)
                expected = pattern_bytes(seed, offset, n)
                if actual == expected:
                    continue
                diff = array('Q', (int.from_bytes(actual, 'little')
                                   ^ int.from_bytes(expected, 'little'))
                             .to_bytes(n, 'little'))
                bad += len(diff) - diff.count(0)
                for i in (i for i, x in enumerate(diff) if x):
                    if len(problems) == MAX_REPORTED:
                        break
                    problems.append(f'word at byte {offset + 8 * i:#x}: '
                                    f'expected {_word(expected, i):#018x}, '
                                    f'found {_word(actual, i):#018x}')
    except OSError as e:
        return [f'cannot read {path}: {e}']
    if bad:
        problems.append(f'{bad} of {(end - start) // 8} words in '
                        f'[{start:#x}, {end:#x}) differ from the pattern for '
                        f'seed {seed:#x}'
                        + (f' (first {MAX_REPORTED} above)'
                           if bad > MAX_REPORTED else ''))
    return problems


# --------------------------------------------------------------------------
# Self-test.
# --------------------------------------------------------------------------

def _plain_splitmix64(x):
    """A second, deliberately literal splitmix64 (mod instead of masks)."""
    z = (x + 0x9E3779B97F4A7C15) % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)


def _plain_pattern(seed, start_byte, length):
    """The pattern one word at a time, with the literal splitmix64."""
    first = start_byte // 8
    return b''.join(_plain_splitmix64((seed + first + i) % 2**64)
                    .to_bytes(8, 'little') for i in range(length // 8))


def _flip_byte(path, offset):
    with open(path, 'r+b') as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x10]))


def _timed(what, fn, *args):
    t0 = time.monotonic()
    fn(*args)
    print(f'# {what}: {time.monotonic() - t0:.2f}s')


def selftest():
    checks = []

    def check(name, ok):
        checks.append(ok)
        if not ok:
            print(f'FAIL disk_pattern selftest: {name}')

    for x, want in ((0, 0xE220A8397B1DCDAF), (1, 0x910A2DEC89025CC1)):
        check(f'literal splitmix64({x}) == {want:#x}',
              _plain_splitmix64(x) == want)
    for x in (0, 1, 2, 0xFFFF, 2**63, MASK64 - GOLDEN, MASK64 - GOLDEN + 1,
              MASK64):
        check(f'splitmix64({x:#x}) matches the literal one',
              splitmix64(x) == _plain_splitmix64(x))
    for seed in (0, 0x123456789ABCDEF, MASK64 - 5):     # last one wraps
        check(f'pattern_bytes(seed {seed:#x}) matches word-at-a-time',
              pattern_bytes(seed, 8 * 100, 8 * 300)
              == _plain_pattern(seed, 8 * 100, 8 * 300))
    seed = 0xC0FFEE
    big = pattern_bytes(seed, 0, 3 * CHUNK)
    check('pattern_bytes is 3 chunks long', len(big) == 3 * CHUNK)
    for start, length in ((CHUNK - 64, 128), (CHUNK // 2, 2 * CHUNK),
                          (2 * CHUNK - 8, 8), (8, 3 * CHUNK - 8)):
        check(f'slice [{start:#x}, +{length:#x}) across chunk boundaries',
              pattern_bytes(seed, start, length) == big[start:start + length])
    check('chunk boundary word by hand',
          big[CHUNK:CHUNK + 8]
          == _plain_splitmix64(seed + CHUNK // 8).to_bytes(8, 'little'))
    check('pattern_bytes refuses an unaligned start',
          _raises(ValueError, pattern_bytes, seed, 4, 8))

    with tempfile.TemporaryDirectory() as tmp:
        img = os.path.join(tmp, 'disk.img')
        make_image(img, 4 << 20, seed)
        with open(img, 'rb') as f:
            check('make_image writes the pattern',
                  f.read() == pattern_bytes(seed, 0, 4 << 20))
        check('check_range of an intact image is empty',
              check_range(img, seed, 0, 4 << 20) == [])
        problems = check_range(img, seed ^ 0xFFFF, 1 << 20, 2 << 20)
        check('check_range with another seed reports every word',
              len(problems) == MAX_REPORTED + 1
              and problems[-1].startswith(f'{(1 << 20) // 8} of '))
        _flip_byte(img, (3 << 20) + 8 * 5 + 3)
        problems = check_range(img, seed, 0, 4 << 20)
        want = pattern_bytes(seed, (3 << 20) + 40, 8)
        found = bytearray(want)
        found[3] ^= 0x10
        check('check_range finds a flipped byte',
              len(problems) == 2
              and problems[0] == f'word at byte {(3 << 20) + 40:#x}: '
              f'expected {int.from_bytes(want, "little"):#018x}, found '
              f'{int.from_bytes(found, "little"):#018x}'
              and problems[1].startswith('1 of '))
        check('check_range outside the flipped byte is empty',
              check_range(img, seed, 0, 3 << 20) == [])
        check('check_range past the end of the image',
              'shorter than' in ' '.join(check_range(img, seed, 0, 5 << 20)))
        check('check_range of a missing file',
              'cannot read' in ' '.join(check_range(img + '.x', seed, 0, 8)))
        _timed('16 MiB of pattern', pattern_bytes, seed, 0, 16 << 20)
        _timed('64 MiB image', make_image, img, 64 << 20, seed)
    passed = sum(checks)
    print(f'{passed} passed, {len(checks) - passed} failed')
    return 0 if passed == len(checks) else 1


def _raises(exc, fn, *args):
    try:
        fn(*args)
    except exc:
        return True
    return False


if __name__ == '__main__':
    if sys.argv[1:] != ['--selftest']:
        sys.exit('usage: disk_pattern.py --selftest')
    sys.exit(selftest())
