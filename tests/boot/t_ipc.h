/*
 * t_ipc.h - the echo protocol between IPC tests and the echo helper.
 *   label L, words w[i]      -> reply label L+1, words w[i] + i + 1,
 *                               w[7] = badge seen, label ECHO_COUNT_CAPS
 *                               replies w0 = caps received (deleted after use)
 *   label ECHO_FILL_FRAME, caps[0] = frame -> the helper maps it, writes
 *                               ECHO_PATTERN to its first byte, replies w0 = 0
 *   label ECHO_GIVE_FRAME    -> reply carries a new 4 KiB frame (moved) whose
 *                               first byte is ECHO_PATTERN
 */
#ifndef WARDEN_T_IPC_H
#define WARDEN_T_IPC_H

#include <warden/abi.h>

#define ECHO_FILL_FRAME 0x100
#define ECHO_GIVE_FRAME 0x101
#define ECHO_BADGE 0x102
#define ECHO_PATTERN 0xA5

void echo_prepare_reply(struct wd_msg *msg);

#endif
