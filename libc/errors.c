/*
 * errors.c - wd_error_name and wd_error_text, generated from the WD_ERRORS
 * X-macro in <warden/errors.h>. Both accept the positive code or the
 * negative value a system call returns.
 */
#include <warden/syscalls.h>

static const char *const error_names[WD_E_COUNT] = {
#define WD_ERROR(code, name, text) [code] = "E_" #name,
    WD_ERRORS
#undef WD_ERROR
};

static const char *const error_texts[WD_E_COUNT] = {
#define WD_ERROR(code, name, text) [code] = text,
    WD_ERRORS
#undef WD_ERROR
};

/* The table index for err of either sign, or WD_E_COUNT when out of range. */
static unsigned long error_index(long err)
{
    unsigned long code = err < 0 ? 0ul - (unsigned long)err : (unsigned long)err;
    return code < WD_E_COUNT ? code : WD_E_COUNT;
}

const char *wd_error_name(long err)
{
    unsigned long i = error_index(err);
    return i < WD_E_COUNT && error_names[i] ? error_names[i] : "E_UNKNOWN";
}

const char *wd_error_text(long err)
{
    unsigned long i = error_index(err);
    return i < WD_E_COUNT && error_texts[i] ? error_texts[i] : "unknown error";
}
