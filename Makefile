# Warden build. Targets:
#   make            build/warden.iso and build/warden-test.iso
#   make run        boot build/warden.iso in QEMU (serial on this terminal; Ctrl-A X quits)
#   make debug      the same, QEMU waiting for gdb; then: gdb -x build/gdbinit
#   make test       host unit tests + boot suite under every QEMU configuration
#   make unit       host unit tests only
#   make bench      microbenchmarks under -icount (instruction counts)
#   make fuzz       the syscall fuzzer at scale (over 1,000,000 calls)
#   make soak       1,000 driver crash/restart cycles under load
#   make stability  the normal system under block + network load for 10 minutes, memory flat
#   make docs       regenerate docs/syscalls.md from include/warden/syscalls.def
#   make compdb     compile_commands.json (with bear)
#   make clean
# QEMU_EXTRA adds QEMU options to run, debug and every test configuration.
# V=1 shows full build commands.

BUILD       := build
CC          := gcc
NASM        := nasm
LD          := ld
PYTHON      := python3
QEMU        := qemu-system-x86_64
QEMU_EXTRA  ?=
V           ?= 0
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

LAYOUT_H    := kernel/arch/x86_64/layout.h
KERNEL_VMA  := $(shell sed -n 's/^\#define KERNEL_VMA \(0x[0-9A-Fa-f]*\)$$/\1/p' $(LAYOUT_H))
GCC_INCLUDE := $(shell $(CC) -print-file-name=include)

KERNEL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -nostdinc -isystem $(GCC_INCLUDE) -Ikernel/include -Ikernel -Iinclude \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mcmodel=kernel \
	-mgeneral-regs-only -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-strict-aliasing -MMD -MP
NASMFLAGS   := -f elf64 -g -DKERNEL_VMA=$(KERNEL_VMA) -ikernel/arch/x86_64/
LDFLAGS     := -nostdlib -z max-page-size=0x1000 -z noexecstack

KERNEL_C    := $(shell find kernel -name '*.c' | sort)
KERNEL_ASM  := boot/multiboot2.asm boot/entry.asm $(shell find kernel -name '*.asm' | sort)
KERNEL_OBJS := $(KERNEL_C:%.c=$(BUILD)/%.o) $(KERNEL_ASM:%.asm=$(BUILD)/%.o)

# Pure kernel (and libc) code that is also compiled on the host for unit tests.
UNIT_KERNEL_C := kernel/core/elf.c kernel/core/format.c kernel/core/printk.c kernel/core/multiboot2.c kernel/core/cmdline.c \
	kernel/mm/frame.c kernel/mm/kobj.c \
	kernel/acpi/acpi.c kernel/acpi/madt.c kernel/acpi/mcfg.c kernel/acpi/dmar.c \
	kernel/pci/pci_enum.c kernel/pci/config_policy.c kernel/pci/intx_route.c \
	kernel/iommu/slpt.c libc/ring.c
UNIT_C      := $(sort $(wildcard tests/unit/*.c))
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Ikernel -Iinclude -Itests/unit \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
	-DFIXTURE_DIR='"$(CURDIR)/tests/unit/fixtures"' -MMD -MP
UNIT_OBJS   := $(UNIT_KERNEL_C:%.c=$(BUILD)/unit/%.o) $(UNIT_C:%.c=$(BUILD)/unit/%.o)

.DEFAULT_GOAL := all
include libc/libc.mk
include drivers/lib/libdriver.mk

# User programs, loaded by GRUB as boot modules named after them.
$(call user_program,init,$(wildcard servers/init/*.c))
$(call user_program,boot-tests,$(wildcard tests/boot/*.c tests/boot/*.asm),-Idrivers/edu -Idrivers/hostile)
$(call user_program,bench,$(wildcard tests/bench/*.c))
$(call user_program,devmgr,$(wildcard servers/devmgr/*.c),$(LIBDRIVER_CFLAGS),$(LIBDRIVER_A))
$(call user_program,edu,$(wildcard drivers/edu/*.c),$(LIBDRIVER_CFLAGS),$(LIBDRIVER_A))
$(call user_program,hostile,$(wildcard drivers/hostile/*.c),$(LIBDRIVER_CFLAGS) -Idrivers/edu,$(LIBDRIVER_A))
$(call user_program,nvme,$(wildcard drivers/nvme/*.c),$(LIBDRIVER_CFLAGS),$(LIBDRIVER_A))
$(call user_program,e1000e,$(wildcard drivers/e1000e/*.c),$(LIBDRIVER_CFLAGS),$(LIBDRIVER_A))
$(call user_program,net,$(wildcard servers/net/*.c),$(LIBDRIVER_CFLAGS),$(LIBDRIVER_A))
$(call user_program,echo,$(wildcard servers/echo/*.c),-Iservers/net)
$(call user_program,shell,$(wildcard servers/shell/*.c),-Iservers/net -Idrivers/edu -Idrivers/nvme)
BOOT_MODULES := init boot-tests bench devmgr edu hostile nvme e1000e net echo shell

# -nic none: no default NIC (make run adds its own, tools/run.sh); every
# QEMU start goes through tools/qemu_netsafety.py, which refuses a command
# line that could send traffic off this machine (QEMU_EXTRA included).
# edu,dma_mask: the edu device reaches all of 32 bits, so the shell's
# `attack edu` can aim at the interrupt window (docs/shell.md).
QEMU_MACHINE := -machine q35 -accel tcg -m 512M -device intel-iommu,intremap=on -device edu,dma_mask=0xffffffff -nic none
QEMU_GUARDED := $(PYTHON) tools/qemu_netsafety.py $(QEMU)
# make run's NVMe disk (namespace 1 of a QEMU NVMe controller): 64 MiB of
# zeros, created once and kept across runs (make clean removes it).
DISK_IMG := $(BUILD)/disk.img
QEMU_DISK := -drive file=$(DISK_IMG),if=none,id=nvm0,format=raw -device nvme,serial=warden0,drive=nvm0

.PHONY: all iso run debug test unit compdb clean deps docs bench fuzz soak stability
all: $(BUILD)/warden.iso $(BUILD)/warden-test.iso
iso: all

deps:
	@tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.asm $(LAYOUT_H) kernel/arch/x86_64/trap_frame.inc
	@mkdir -p $(dir $@)
	$(call say,NASM,$<)
	$(Q)$(NASM) $(NASMFLAGS) $< -o $@

$(BUILD)/linker.ld: boot/linker.ld.S $(LAYOUT_H)
	@mkdir -p $(dir $@)
	$(call say,CPP,$<)
	$(Q)$(CC) -E -P -undef -x c $< -o $@

$(BUILD)/kernel.elf: $(KERNEL_OBJS) $(BUILD)/linker.ld
	$(call say,LD,$@)
	$(Q)$(LD) $(LDFLAGS) -T $(BUILD)/linker.ld -o $@ $(KERNEL_OBJS)

# $(call make_iso,output,cmdline)
define make_iso
	@rm -rf $@.dir && mkdir -p $@.dir/boot/grub
	$(call say,ISO,$@)
	$(Q)cp $(BUILD)/kernel.elf $@.dir/boot/warden.elf
	$(Q)for m in $(BOOT_MODULES); do cp $(BUILD)/user/$$m.elf $@.dir/boot/$$m; done
	$(Q)sed -e 's|@CMDLINE@|$(2)|' \
		-e 's|@MODULES@|$(foreach m,$(BOOT_MODULES),    module2 /boot/$(m) $(m)\n)|' \
		boot/grub.cfg.in > $@.dir/boot/grub/grub.cfg
	$(Q)grub-mkrescue -o $@ $@.dir > $@.log 2>&1 || { cat $@.log; exit 1; }
	@rm -rf $@.dir
endef

$(BUILD)/warden.iso: $(BUILD)/kernel.elf boot/grub.cfg.in $(USER_PROGRAMS)
	$(call make_iso,$@,)

$(BUILD)/warden-test.iso: $(BUILD)/kernel.elf boot/grub.cfg.in $(USER_PROGRAMS)
	$(call make_iso,$@,test)

$(BUILD)/unit/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,HOSTCC,$<)
	$(Q)$(CC) $(UNIT_CFLAGS) -c $< -o $@

$(BUILD)/unit/unit-tests: $(UNIT_OBJS)
	$(call say,HOSTLD,$@)
	$(Q)$(CC) $(UNIT_CFLAGS) $^ -o $@ -pthread

unit: $(BUILD)/unit/unit-tests
	$(BUILD)/unit/unit-tests

$(DISK_IMG):
	$(Q)mkdir -p $(dir $@) && truncate -s 64M $@

# make run's NIC: an e1000e on -netdev dgram to tools/netrelay.py (UDP on
# 127.0.0.1:NET_PORT reaches Warden's echo service; tools/run.sh).
NET_PORT ?= 5555

# The console: stdio shared by the serial port and QEMU's monitor (Ctrl-A X
# quits, Ctrl-A C the monitor); signal=off gives Ctrl-C to the shell.
RUN_CONSOLE := -chardev stdio,id=con0,mux=on,signal=off -serial chardev:con0 -mon chardev=con0

run: deps $(BUILD)/warden.iso $(DISK_IMG)
	@echo "Booting Warden in QEMU; it ends at the warden> shell (help lists the commands); quit with Ctrl-A X."
	@tools/run.sh $(NET_PORT) $(QEMU_MACHINE) $(QEMU_DISK) -display none $(RUN_CONSOLE) -no-reboot \
		-cdrom $(BUILD)/warden.iso $(QEMU_EXTRA)

debug: deps $(BUILD)/warden.iso $(DISK_IMG)
	@printf 'set architecture i386:x86-64\nfile %s\ntarget remote localhost:1234\nhbreak kmain\ncontinue\n' \
		$(BUILD)/kernel.elf > $(BUILD)/gdbinit
	@echo "QEMU waits for gdb on :1234. In another terminal: gdb -x $(BUILD)/gdbinit"
	$(QEMU_GUARDED) $(QEMU_MACHINE) $(QEMU_DISK) -display none -serial mon:stdio -no-reboot -s -S \
		-cdrom $(BUILD)/warden.iso $(QEMU_EXTRA)

# The syscall fuzzer at scale: 8 seeds x 130,000 calls, then 100,000 fuzzed frames from the host peer (tools/fuzz.py; FUZZ_SEEDS, FUZZ_CALLS, FUZZ_SEED, FUZZ_PACKETS).
fuzz: deps $(BUILD)/warden-test.iso
	$(Q)$(PYTHON) tools/fuzz.py $(BUILD)/warden-test.iso

# 1,000 driver crash/restart cycles under load, checked every cycle and in QEMU's trace (tools/soak.py; SOAK_CYCLES, SOAK_SEED).
soak: deps $(BUILD)/warden-test.iso
	$(Q)$(PYTHON) tools/soak.py $(BUILD)/warden-test.iso

# The normal system under steady block + network load, memory and counters flat (tools/stability.py; STABILITY_SECONDS).
stability: deps $(BUILD)/warden-test.iso
	$(Q)$(PYTHON) tools/stability.py $(BUILD)/warden-test.iso

bench: deps $(BUILD)/warden.iso
	$(Q)tools/bench.sh $(BUILD)/warden.iso $(QEMU_EXTRA)
	$(Q)tools/iotlb.sh $(BUILD)/warden.iso

docs:
	$(PYTHON) tools/gen-syscall-docs.py -o docs/syscalls.md

test: deps all $(BUILD)/unit/unit-tests
	$(Q)$(PYTHON) tools/gen-syscall-docs.py --check docs/syscalls.md
	$(Q)QEMU_EXTRA='$(QEMU_EXTRA)' $(PYTHON) tests/harness.py --selftest \
		--unit $(BUILD)/unit/unit-tests --iso $(BUILD)/warden-test.iso

compdb:
	bear -- $(MAKE) -B $(BUILD)/kernel.elf $(BUILD)/unit/unit-tests

clean:
	rm -rf $(BUILD) compile_commands.json

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
