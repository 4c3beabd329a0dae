# drivers/lib/libdriver.mk - builds libdriver, the static library drivers
# link (DMA buffers, IOVA allocation, BARs, config access, DMA fault
# messages, interrupts; the API is drivers/lib/include/warden/driver.h).
#
# Include it from the root Makefile after libc/libc.mk (it uses USER_CFLAGS).
# Provides:
#   LIBDRIVER_A       $(BUILD)/libdriver/libdriver.a: drivers/lib/*.c
#   LIBDRIVER_CFLAGS  -Idrivers/lib/include, for programs that include <warden/driver.h>
#   make libdriver    builds LIBDRIVER_A
# A driver is declared with
#   $(call user_program,NAME,SOURCES,$(LIBDRIVER_CFLAGS),$(LIBDRIVER_A))

LIBDRIVER_CFLAGS := -Idrivers/lib/include
LIBDRIVER_C      := $(sort $(wildcard drivers/lib/*.c))
LIBDRIVER_OBJS   := $(LIBDRIVER_C:drivers/lib/%.c=$(BUILD)/libdriver/%.o)
LIBDRIVER_A      := $(BUILD)/libdriver/libdriver.a

$(LIBDRIVER_OBJS): $(BUILD)/libdriver/%.o: drivers/lib/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(USER_CFLAGS) $(LIBDRIVER_CFLAGS) -c $< -o $@

$(LIBDRIVER_A): $(LIBDRIVER_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

.PHONY: libdriver
libdriver: $(LIBDRIVER_A)
