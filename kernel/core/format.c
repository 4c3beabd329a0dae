/*
 * format.c - the printf engine behind printk (and, later, libc's printf).
 * See format.h for what is supported. No allocation, no global state.
 */
#include "core/format.h"

#include <stdbool.h>
#include <stdint.h>

struct spec {
    bool left, zero, plus, space, alt;
    int width;          /* -1: none */
    int precision;      /* -1: none */
    int length;         /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t/ptrdiff/intmax */
};

struct out {
    format_sink sink;
    void *ctx;
    int count;
};

static void emit(struct out *o, char c)
{
    o->sink(o->ctx, c);
    o->count++;
}

static void emit_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        emit(o, c);
}

static void emit_string(struct out *o, const struct spec *s, const char *str)
{
    if (!str)
        str = "(null)";
    int len = 0;
    while (str[len] && (s->precision < 0 || len < s->precision))
        len++;
    int pad = s->width > len ? s->width - len : 0;
    if (!s->left)
        emit_repeat(o, ' ', pad);
    for (int i = 0; i < len; i++)
        emit(o, str[i]);
    if (s->left)
        emit_repeat(o, ' ', pad);
}

/* Integer conversion: value magnitude, sign, base, letter case. */
static void emit_integer(struct out *o, const struct spec *s, uint64_t magnitude,
                         bool negative, unsigned base, bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int ndigits = 0;
    do {
        buf[ndigits++] = digits[magnitude % base];
        magnitude /= base;
    } while (magnitude);
    if (s->precision == 0 && ndigits == 1 && buf[0] == '0' && !(base == 8 && s->alt))
        ndigits = 0;    /* "%.0d" of 0 prints nothing */

    char sign = negative ? '-' : s->plus ? '+' : s->space ? ' ' : 0;
    int prefix_len = 0;
    while (prefix && prefix[prefix_len])
        prefix_len++;
    int zeros = s->precision > ndigits ? s->precision - ndigits : 0;
    if (base == 8 && s->alt && zeros == 0 && (ndigits == 0 || buf[ndigits - 1] != '0'))
        zeros = 1;
    int body = (sign ? 1 : 0) + prefix_len + zeros + ndigits;
    int pad = s->width > body ? s->width - body : 0;
    if (s->zero && !s->left && s->precision < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!s->left)
        emit_repeat(o, ' ', pad);
    if (sign)
        emit(o, sign);
    for (int i = 0; i < prefix_len; i++)
        emit(o, prefix[i]);
    emit_repeat(o, '0', zeros);
    while (ndigits > 0)
        emit(o, buf[--ndigits]);
    if (s->left)
        emit_repeat(o, ' ', pad);
}

static int64_t fetch_signed(const struct spec *s, va_list *ap)
{
    switch (s->length) {
    case -2: return (signed char)va_arg(*ap, int);
    case -1: return (short)va_arg(*ap, int);
    case 0: return va_arg(*ap, int);
    case 1: return va_arg(*ap, long);
    default: return va_arg(*ap, long long);
    }
}

static uint64_t fetch_unsigned(const struct spec *s, va_list *ap)
{
    switch (s->length) {
    case -2: return (unsigned char)va_arg(*ap, unsigned);
    case -1: return (unsigned short)va_arg(*ap, unsigned);
    case 0: return va_arg(*ap, unsigned);
    case 1: return va_arg(*ap, unsigned long);
    default: return va_arg(*ap, unsigned long long);
    }
}

/* Parses flags, width, precision and length at *p; advances *p. */
static struct spec parse_spec(const char **p, va_list *ap)
{
    struct spec s = { .width = -1, .precision = -1 };
    for (;; (*p)++) {
        char c = **p;
        if (c == '-') s.left = true;
        else if (c == '0') s.zero = true;
        else if (c == '+') s.plus = true;
        else if (c == ' ') s.space = true;
        else if (c == '#') s.alt = true;
        else break;
    }
    if (**p == '*') {
        s.width = va_arg(*ap, int);
        if (s.width < 0) {
            s.left = true;
            s.width = -s.width;
        }
        (*p)++;
    } else {
        for (; **p >= '0' && **p <= '9'; (*p)++)
            s.width = (s.width < 0 ? 0 : s.width * 10) + (**p - '0');
    }
    if (**p == '.') {
        (*p)++;
        s.precision = 0;
        if (**p == '*') {
            s.precision = va_arg(*ap, int);
            (*p)++;
        } else {
            for (; **p >= '0' && **p <= '9'; (*p)++)
                s.precision = s.precision * 10 + (**p - '0');
        }
    }
    if (**p == 'h') {
        s.length = -1;
        if (*++*p == 'h') {
            s.length = -2;
            (*p)++;
        }
    } else if (**p == 'l') {
        s.length = 1;
        if (*++*p == 'l') {
            s.length = 2;
            (*p)++;
        }
    } else if (**p == 'z' || **p == 't' || **p == 'j') {
        s.length = 3;
        (*p)++;
    }
    return s;
}

int format_v(format_sink sink, void *ctx, const char *fmt, va_list ap_in)
{
    struct out o = { sink, ctx, 0 };
    va_list ap;
    va_copy(ap, ap_in);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            emit(&o, *p);
            continue;
        }
        const char *start = p++;
        struct spec s = parse_spec(&p, &ap);
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = fetch_signed(&s, &ap);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            emit_integer(&o, &s, mag, v < 0, 10, false, NULL);
            break;
        }
        case 'u':
            emit_integer(&o, &s, fetch_unsigned(&s, &ap), false, 10, false, NULL);
            break;
        case 'o':
            emit_integer(&o, &s, fetch_unsigned(&s, &ap), false, 8, false, NULL);
            break;
        case 'x':
        case 'X': {
            uint64_t v = fetch_unsigned(&s, &ap);
            const char *prefix = (s.alt && v) ? (*p == 'x' ? "0x" : "0X") : NULL;
            emit_integer(&o, &s, v, false, 16, *p == 'X', prefix);
            break;
        }
        case 'p': {
            struct spec ps = s;
            ps.precision = 16;
            ps.zero = false;
            emit_integer(&o, &ps, (uint64_t)(uintptr_t)va_arg(ap, void *), false, 16, false, "0x");
            break;
        }
        case 's':
            emit_string(&o, &s, va_arg(ap, const char *));
            break;
        case 'c': {
            char c = (char)va_arg(ap, int);
            if (!s.left)
                emit_repeat(&o, ' ', s.width - 1);
            emit(&o, c);
            if (s.left)
                emit_repeat(&o, ' ', s.width - 1);
            break;
        }
        case '%':
            emit(&o, '%');
            break;
        default:
            /* Unknown or truncated conversion: show it as written. */
            for (const char *q = start; q <= p && *q; q++)
                emit(&o, *q);
            if (!*p)
                p--;
            break;
        }
    }
    va_end(ap);
    return o.count;
}

struct buffer_sink {
    char *buf;
    size_t size;
    size_t used;
};

static void buffer_put(void *ctx, char c)
{
    struct buffer_sink *b = ctx;
    if (b->used + 1 < b->size)
        b->buf[b->used] = c;
    b->used++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buffer_sink b = { buf, size, 0 };
    int n = format_v(buffer_put, &b, fmt, ap);
    if (size > 0)
        buf[b.used < size ? b.used : size - 1] = '\0';
    return n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
