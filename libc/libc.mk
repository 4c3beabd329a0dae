# libc/libc.mk - builds the user-space C library and links user programs.
#
# Include it from the root Makefile after BUILD, CC, NASM, LD, Q and say are
# defined (GCC_INCLUDE too, or it is computed here). Paths are relative to
# the repository root, where make runs.
#
# Provides:
#   USER_CFLAGS     flags for every user-space C file (SSE allowed, red zone allowed)
#   USER_NASMFLAGS  flags for user-space NASM files
#   USER_LD         libc/user.ld, the linker script of every user program
#   USER_LDFLAGS    -nostdlib -static -T $(USER_LD) -z max-page-size=0x1000 -z noexecstack
#   LIBC_A          $(BUILD)/libc/libc.a: libc/*.c, libc/*.asm except crt0, and the
#                   kernel's pure kernel/core/format.c and kernel/core/string.c built
#                   again with USER_CFLAGS as $(BUILD)/libc/kernel/core/*.o
#   LIBC_CRT0       $(BUILD)/libc/crt0.o (_start; linked first, kept out of the archive)
#   USER_PROGRAMS   every $(BUILD)/user/NAME.elf declared with user_program
#   make libc       builds LIBC_A and LIBC_CRT0
#
#   $(call user_program,NAME,SOURCES[,EXTRA_CFLAGS[,EXTRA_LIBS]])
#       Declares $(BUILD)/user/NAME.elf, linked with $(LD) $(USER_LDFLAGS) from
#       crt0, SOURCES (.c and .asm files, paths from the repository root),
#       EXTRA_LIBS (archives or objects, e.g. a libdriver.a; they become
#       prerequisites), libc.a and libgcc.a. C files get USER_CFLAGS plus
#       EXTRA_CFLAGS. Objects go to $(BUILD)/user/NAME/<source path>.o, so two
#       programs may share a source file. Call it at the top level of a
#       makefile (it expands to nothing):
#         $(call user_program,init,$(wildcard servers/init/*.c))
#         $(call user_program,edu,$(wildcard drivers/edu/*.c),-Idrivers/lib,$(LIBDRIVER_A))
#         all: $(USER_PROGRAMS)
#
# Dependency files (-MMD -MP) land next to the objects; the root Makefile's
# `-include` of every *.d under $(BUILD) picks them up.

GCC_INCLUDE ?= $(shell $(CC) -print-file-name=include)
LIBGCC_A    := $(shell $(CC) -print-libgcc-file-name)
AR          ?= ar

USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -nostdinc -isystem $(GCC_INCLUDE) -Ilibc/include -Iinclude \
	-fno-stack-protector -fno-pic -fno-pie -static -fno-omit-frame-pointer \
	-fcf-protection=none -MMD -MP
USER_NASMFLAGS := -f elf64 -g -F dwarf
USER_LD      := libc/user.ld
USER_LDFLAGS := -nostdlib -static -T $(USER_LD) -z max-page-size=0x1000 -z noexecstack

# libc's own files may also include the kernel's pure headers ("core/format.h").
# Only -Ikernel, never -Ikernel/include: libc/include/string.h is the one user code sees.
LIBC_CFLAGS   := $(USER_CFLAGS) -Ikernel
LIBC_KERNEL_C := kernel/core/format.c kernel/core/string.c kernel/core/elf.c
LIBC_C        := $(sort $(wildcard libc/*.c))
LIBC_ASM      := $(filter-out libc/crt0.asm,$(sort $(wildcard libc/*.asm)))
LIBC_C_OBJS   := $(LIBC_C:libc/%.c=$(BUILD)/libc/%.o)
LIBC_ASM_OBJS := $(LIBC_ASM:libc/%.asm=$(BUILD)/libc/%.o)
LIBC_KERNEL_OBJS := $(LIBC_KERNEL_C:%.c=$(BUILD)/libc/%.o)
LIBC_OBJS     := $(LIBC_C_OBJS) $(LIBC_ASM_OBJS) $(LIBC_KERNEL_OBJS)
LIBC_CRT0     := $(BUILD)/libc/crt0.o
LIBC_A        := $(BUILD)/libc/libc.a
USER_PROGRAMS :=

$(if $(filter $(LIBC_C_OBJS),$(LIBC_ASM_OBJS)),\
	$(error libc: a .c and a .asm file share a name: $(filter $(LIBC_C_OBJS),$(LIBC_ASM_OBJS))))

$(LIBC_C_OBJS): $(BUILD)/libc/%.o: libc/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(LIBC_CFLAGS) -c $< -o $@

$(LIBC_KERNEL_OBJS): $(BUILD)/libc/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(LIBC_CFLAGS) -c $< -o $@

$(LIBC_ASM_OBJS) $(LIBC_CRT0): $(BUILD)/libc/%.o: libc/%.asm
	@mkdir -p $(dir $@)
	$(call say,NASM,$<)
	$(Q)$(NASM) $(USER_NASMFLAGS) $< -o $@

$(LIBC_A): $(LIBC_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

.PHONY: libc
libc: $(LIBC_A) $(LIBC_CRT0)

# $(call _user_program,NAME,SOURCES,EXTRA_CFLAGS,EXTRA_LIBS): the rules, for $(eval).
define _user_program
$(if $(filter-out %.c %.asm,$(2)),$(error user_program $(1): not a .c or .asm file: $(filter-out %.c %.asm,$(2))))
USER_PROGRAMS += $(BUILD)/user/$(1).elf
USER_C_OBJS_$(1) := $(patsubst %.c,$(BUILD)/user/$(1)/%.o,$(filter %.c,$(2)))
USER_ASM_OBJS_$(1) := $(patsubst %.asm,$(BUILD)/user/$(1)/%.o,$(filter %.asm,$(2)))

$$(USER_C_OBJS_$(1)): $(BUILD)/user/$(1)/%.o: %.c
	@mkdir -p $$(dir $$@)
	$$(call say,CC,$$<)
	$$(Q)$$(CC) $$(USER_CFLAGS) $(3) -c $$< -o $$@

$$(USER_ASM_OBJS_$(1)): $(BUILD)/user/$(1)/%.o: %.asm
	@mkdir -p $$(dir $$@)
	$$(call say,NASM,$$<)
	$$(Q)$$(NASM) $$(USER_NASMFLAGS) $$< -o $$@

$(BUILD)/user/$(1).elf: $(LIBC_CRT0) $$(USER_C_OBJS_$(1)) $$(USER_ASM_OBJS_$(1)) $(4) $(LIBC_A) $(USER_LD)
	@mkdir -p $$(dir $$@)
	$$(call say,LD,$$@)
	$$(Q)$$(LD) $$(USER_LDFLAGS) -o $$@ $(LIBC_CRT0) $$(USER_C_OBJS_$(1)) $$(USER_ASM_OBJS_$(1)) \
		$(4) $(LIBC_A) $(LIBGCC_A)
endef

user_program = $(eval $(call _user_program,$(strip $(1)),$(2),$(3),$(4)))
