"""Finding connected boards by their USB identity (see hardware/README.md)."""
from serial.tools import list_ports

# (vendor id, product id) -> board, as MicroPython presents it over USB.
USB_IDS = {
    (0x2886, 0x0045): "Seeed XIAO nRF52840 Sense",
    (0x2341, 0x025E): "Arduino Nano RP2040 Connect",
    (0x2E8A, 0x0005): "Raspberry Pi Pico (MicroPython)",
    (0x1A86, 0x55D4): "CH9102 USB-serial (M5StickC PLUS2 or similar)",
}


def find_boards() -> list:
    """[(port device path, board name)] for connected serial ports with a known USB id."""
    found = []
    for info in sorted(list_ports.comports(), key=lambda i: i.device):
        name = USB_IDS.get((info.vid, info.pid)) if info.vid is not None else None
        if name:
            found.append((info.device, name))
    return found
