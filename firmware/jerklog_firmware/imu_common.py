"""What the IMU drivers share: finding the chip on the bus, choosing a supported setting,
and integer scale factors."""


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


def fixed_ratio(p, q):
    """(num, shift) with num / 2**shift ~= p / q and num < 2**15: raw * num >> shift stays a
    small int on 31-bit boards for any int16 raw value."""
    s = 0
    while s < 24 and ((p << (s + 1)) + q // 2) // q < 32768:
        s += 1
    return ((p << s) + q // 2) // q, s


def at_least(table, want, what, name):
    """First row of ``table`` (sorted ascending by row[0]) with row[0] >= ``want``."""
    for row in table:
        if row[0] >= want:
            return row
    raise ValueError("%s: %s %s not supported (max %s)" % (name, what, want, table[-1][0]))
