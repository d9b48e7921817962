"""Finding an IMU on an I2C bus: the address, and what its WHO_AM_I register says."""


def probe(i2c, addr, addrs, who_am_i, name):
    """(address, WHO_AM_I value) of the chip at addr, or at the first of addrs that answers
    a bus scan when addr is None. OSError naming the bus and address if nothing answers."""
    if addr is None:
        found = i2c.scan()
        for a in addrs:
            if a in found:
                addr = a
                break
        else:
            raise OSError("%s: no chip at %s on %s"
                          % (name, "/".join("0x%02X" % a for a in addrs), i2c))
    try:
        return addr, i2c.readfrom_mem(addr, who_am_i, 1)[0]
    except OSError:
        raise OSError("%s: no chip at 0x%02X on %s" % (name, addr, i2c))
