/*
 * config.c - PCI configuration space access for drivers: thin wrappers over
 * device_config_read/device_config_write, which the kernel mediates (it
 * refuses writes to BARs, MSI/MSI-X and bridge windows with PROTECTED).
 */
#include <warden/driver.h>
#include <warden/syscalls.h>

long wd_config_read8(struct wd_driver *d, unsigned offset)
{
    return wd_device_config_read(d->device, offset, 1);
}

long wd_config_read16(struct wd_driver *d, unsigned offset)
{
    return wd_device_config_read(d->device, offset, 2);
}

long wd_config_read32(struct wd_driver *d, unsigned offset)
{
    return wd_device_config_read(d->device, offset, 4);
}

long wd_config_write8(struct wd_driver *d, unsigned offset, uint8_t value)
{
    return wd_device_config_write(d->device, offset, 1, value);
}

long wd_config_write16(struct wd_driver *d, unsigned offset, uint16_t value)
{
    return wd_device_config_write(d->device, offset, 2, value);
}

long wd_config_write32(struct wd_driver *d, unsigned offset, uint32_t value)
{
    return wd_device_config_write(d->device, offset, 4, value);
}
