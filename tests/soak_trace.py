"""soak_trace.py - no DMA after a death, as QEMU itself saw it.

The soak configuration (tests/harness.py, `make soak`) runs QEMU with its
IOTLB trace events on stderr, which shares one pipe with the serial port on
stdout, so the trace records and the kernel's lines arrive in the order
they happened. The kernel prints, once a dead (or revoked) driver's group
is detached and the context cache and IOTLB invalidations are waited for:

    IOMMU: group 3 revoked from dead process 840: ... mapping(s) of domain 12 unreachable ...

From that line on, QEMU must translate nothing for domain 12: no
vtd_iotlb_page_hit and no vtd_iotlb_page_update with domain 0xc, until a
context entry with domain ID 12 is cached again (vtd_iotlb_cc_update: the
kernel gave the ID to a new dmaspace; IDs are reused after 1,023). A trace
record can land in the middle of a serial line (the serial port writes a
byte at a time), so records are cut out of the stream before lines are
read. As a control, the check also counts the revoked domains that QEMU
did translate for before their revocation: a trace that shows nothing
would otherwise pass.
"""

import re

EVENTS = ('vtd_iotlb_page_hit', 'vtd_iotlb_page_update', 'vtd_iotlb_cc_update')
QEMU_TRACE_ARGS = [arg for event in EVENTS for arg in ('-trace', event)]

# One record of the log trace backend, with or without the pid@time: prefix.
TRACE_RE = re.compile(r'(?:\d+@\d+\.\d+:)?(vtd_iotlb_page_hit|vtd_iotlb_page_update|vtd_iotlb_cc_update) ([^\n]*)\n')
DOMAIN_RE = re.compile(r'\bdomain 0x([0-9a-f]+)')
CONTEXT_HIGH_RE = re.compile(r'\bhigh 0x([0-9a-f]+)')
REVOKED_RE = re.compile(r'IOMMU: group \d+ revoked from (?:dead|live) process (\d+)\b.* of domain (\d+)\b')
SHOWN = 5


class Scan:
    """What the stream showed: revocations, translations, violations."""

    def __init__(self):
        self.dead = {}              # domain -> pid it was revoked from, until reused
        self.translated = {}        # domain -> translations since its context entry was last cached
        self.revocations = 0
        self.revoked_with_traffic = 0
        self.reused = 0
        self.translations = 0
        self.violations = []        # (domain, pid, record)
        self.lines = []             # the serial port's lines
        self.partial = ''

    def serial(self, text):
        text = self.partial + text
        *complete, self.partial = text.split('\n')
        for line in complete:
            self.lines.append(line)
            m = REVOKED_RE.search(line)
            if m and int(m.group(2)):
                domain = int(m.group(2))
                self.revocations += 1
                self.revoked_with_traffic += self.translated.get(domain, 0) > 0
                self.dead[domain] = int(m.group(1))

    def record(self, event, args):
        if event == 'vtd_iotlb_cc_update':
            high = CONTEXT_HIGH_RE.search(args)
            if high:
                domain = (int(high.group(1), 16) >> 8) & 0xFFFF     # context entry DID, bits 72-87
                if self.dead.pop(domain, None) is not None:
                    self.reused += 1
                self.translated[domain] = 0
            return
        m = DOMAIN_RE.search(args)
        if not m:
            return
        domain = int(m.group(1), 16)
        self.translations += 1
        self.translated[domain] = self.translated.get(domain, 0) + 1
        if domain in self.dead:
            self.violations.append((domain, self.dead[domain], f'{event} {args}'))


def scan(text):
    """The Scan of QEMU's combined output."""
    s = Scan()
    pos = 0
    for m in TRACE_RE.finditer(text):
        s.serial(text[pos:m.start()])
        s.record(m.group(1), m.group(2))
        pos = m.end()
    s.serial(text[pos:])
    if s.partial:
        s.lines.append(s.partial)
    return s


def dma_after_death_reasons(text):
    """(the serial text without trace records, failure reasons, summary)."""
    s = scan(text)
    reasons = []
    for domain, pid, record in s.violations[:SHOWN]:
        reasons.append(f'QEMU translated for domain {domain} after its revocation from process {pid}: {record}')
    if len(s.violations) > SHOWN:
        reasons.append(f'... {len(s.violations) - SHOWN} more translations after a revocation')
    if not s.revocations:
        reasons.append('no revocation line naming a domain: the check saw no death')
    elif not s.revoked_with_traffic:
        reasons.append('no revoked domain had a translation in the trace before its death: the trace shows nothing')
    summary = (f'QEMU trace: {s.translations} translations, {s.revocations} revocations '
               f'({s.revoked_with_traffic} of domains QEMU had translated for), {s.reused} domain IDs reused, '
               f'{len(s.violations)} translations after a revocation')
    return '\n'.join(s.lines), reasons, summary


# ---- offline checks (harness --selftest) ----

def _hit(domain, sid=0x20):
    return f'vtd_iotlb_page_hit IOTLB page hit sid {sid:#x} iova 0x100000 slpte 0x1003 domain {domain:#x}\n'


def _cc(domain):
    return f'vtd_iotlb_cc_update IOTLB context update bus 0x0 devfn 0x20 high {domain << 8 | 2:#x} low 0x1001 gen 0 -> gen 1\n'


REVOKE = ('IOMMU: group 4 revoked from dead process 87: bus mastering off, 9 interrupt(s) unhooked, '
          '21 DMA mapping(s) of domain 5 unreachable (context cleared, IOTLB flushed)\n')


def _expect(name, text, violations, reasons_with=None):
    serial, reasons, _ = dma_after_death_reasons(text)
    s = scan(text)
    problems = []
    if len(s.violations) != violations:
        problems.append(f'{name}: {len(s.violations)} violations, expected {violations}')
    if reasons_with and not any(reasons_with in r for r in reasons):
        problems.append(f'{name}: no reason containing {reasons_with!r}: {reasons}')
    if 'vtd_iotlb' in serial:
        problems.append(f'{name}: a trace record left in the serial text')
    return problems


def selftest_problems():
    """Each case: a stream, the violations it must show. [] when all hold."""
    p = []
    p += _expect('clean', _cc(5) + _hit(5) + REVOKE + 'ok 1 soak\n', 0)
    p += _expect('after death', _cc(5) + _hit(5) + REVOKE + _hit(5), 1, 'after its revocation from process 87')
    p += _expect('other domain', _cc(5) + _hit(5) + REVOKE + _cc(6) + _hit(6), 0)
    p += _expect('reused', _cc(5) + _hit(5) + REVOKE + _cc(5) + _hit(5), 0)
    # A record in the middle of the revocation line: the line counts once it is complete.
    half = len(REVOKE) // 2
    p += _expect('record inside the line', _cc(5) + REVOKE[:half] + _hit(5) + REVOKE[half:] + _hit(5), 1)
    p += _expect('no traffic', REVOKE, 0, 'the trace shows nothing')
    p += _expect('no death', _cc(5) + _hit(5), 0, 'saw no death')
    serial, _, _ = dma_after_death_reasons('ok 1 so' + _hit(5) + 'ak\n')
    if 'ok 1 soak' not in serial:
        p.append(f'a serial line cut by a record is not joined again: {serial!r}')
    return p
