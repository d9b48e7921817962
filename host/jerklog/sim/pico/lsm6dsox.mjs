// An LSM6DSOX on the emulated I2C bus: the registers the firmware's driver
// (firmware/jerklog_firmware/lsm6.py) uses, with a FIFO that fills from a raw
// recording at the configured output data rate, in emulated time.
//
// Register facts (LSM6DSOX datasheet, "Register description"): WHO_AM_I 0Fh = 6Ch;
// CTRL1_XL 10h ODR_XL[7:4] FS_XL[3:2]; CTRL2_G 11h ODR_G[7:4] FS_G[3:1];
// CTRL3_C 12h IF_INC bit 2; FIFO_CTRL3 09h BDR_GY[7:4] BDR_XL[3:0]; FIFO_CTRL4 0Ah
// FIFO_MODE[2:0] (000 bypass: FIFO emptied, 110 continuous); FIFO_STATUS1/2 3Ah/3Bh
// DIFF_FIFO[9:0] (words), FIFO_OVR_LATCHED bit 3 (cleared by reading 3Bh);
// FIFO_DATA_OUT_TAG 78h then X, Y, Z little endian to 7Eh, the address rolling back
// to 78h in a burst read. 512 words of FIFO.
//
// The recording: int16 little endian, 6 a sample (ax, ay, az in mg, gx, gy, gz in
// 0.1 deg/s), converted to counts at the full scale the firmware configured.

const ODR_HZ = [0, 12.5, 26, 52, 104, 208, 416, 833, 1666, 3333, 6666];
// FS_XL code -> micro-g per LSB; FS_G (CTRL2_G[3:1]) -> micro-dps per LSB
const XL_UG = { 0: 61, 1: 488, 2: 122, 3: 244 };
const G_UDPS = { 0: 8750, 1: 4375, 2: 17500, 4: 35000, 6: 70000 };
const FIFO_WORDS = 512;
const TAG_GYRO = 0x01;
const TAG_ACCEL = 0x02;

function clamp16(v) {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

export class LSM6DSOX {
  /**
   * samples: Int16Array of the recording (6 values a sample, mg and 0.1 deg/s).
   * nanos: a function giving emulated time in ns.
   */
  constructor(samples, nanos, log = () => {}) {
    this.samples = samples;
    this.count = Math.floor(samples.length / 6);
    this.nanos = nanos;
    this.log = log;
    this.regs = new Uint8Array(128);
    this.regs[0x0f] = 0x6c;
    this.regs[0x12] = 0x04; // CTRL3_C: IF_INC on at reset
    this.pointer = 0;
    this.expectRegister = false;
    this.fifo = []; // words: Uint8Array(7)
    this.word = null; // the word being read out at 78h..7Eh
    this.overrun = false;
    this.next = 0; // index of the next recording sample to enter the FIFO
    this.startNs = null; // emulated time the FIFO started (continuous mode)
    this.slots = 0; // sample slots since startNs already accounted for
    this.tagCount = 0;
    this.served = 0; // samples put into the FIFO (for the log)
    this.lost = 0; // words overwritten in continuous mode
    this.endedLogged = false;
  }

  get rateHz() {
    const xl = this.regs[0x10] >> 4;
    const fifoXl = this.regs[0x09] & 0x0f;
    return xl && fifoXl ? ODR_HZ[Math.min(xl, fifoXl)] || 0 : 0;
  }

  get continuous() {
    return (this.regs[0x0a] & 0x07) === 0x06;
  }

  // Bring the FIFO up to date with emulated time: every ODR period one gyro and one
  // accel word, the oldest words overwritten when it is full.
  update() {
    const rate = this.rateHz;
    if (!this.continuous || !rate) {
      return;
    }
    const now = this.nanos();
    if (this.startNs === null) {
      this.startNs = now;
      this.slots = 0;
    }
    const due = Math.floor(((now - this.startNs) * rate) / 1e9);
    while (this.slots < due) {
      this.slots += 1;
      if (this.next >= this.count) {
        if (!this.endedLogged) {
          this.log(`lsm6dsox: recording ended after ${this.served} samples`);
          this.endedLogged = true;
        }
        this.slots = due;
        break;
      }
      this.pushSample(this.next);
      this.next += 1;
    }
  }

  pushSample(i) {
    const s = this.samples;
    const o = 6 * i;
    const xlUg = XL_UG[(this.regs[0x10] >> 2) & 3];
    const gUdps = G_UDPS[(this.regs[0x11] >> 1) & 7] || 70000;
    const cnt = this.tagCount;
    this.tagCount = (this.tagCount + 1) & 3;
    // mg -> counts: mg * 1000 / (ug per LSB); 0.1 dps -> counts: x * 100000 / (udps per LSB)
    const g = [0, 1, 2].map((k) => clamp16(Math.round((s[o + 3 + k] * 100000) / gUdps)));
    const a = [0, 1, 2].map((k) => clamp16(Math.round((s[o + k] * 1000) / xlUg)));
    this.pushWord(TAG_GYRO, cnt, g);
    this.pushWord(TAG_ACCEL, cnt, a);
    this.served += 1;
  }

  pushWord(sensor, cnt, xyz) {
    const w = new Uint8Array(7);
    let tag = (sensor << 3) | (cnt << 1);
    let ones = 0;
    for (let b = tag; b; b >>= 1) ones += b & 1;
    tag |= ones & 1; // parity bit: odd parity over the tag byte
    w[0] = tag;
    for (let k = 0; k < 3; k++) {
      w[1 + 2 * k] = xyz[k] & 0xff;
      w[2 + 2 * k] = (xyz[k] >> 8) & 0xff;
    }
    if (this.fifo.length >= FIFO_WORDS) {
      this.fifo.shift();
      this.overrun = true;
      this.lost += 1;
    }
    this.fifo.push(w);
  }

  // -- the I2C target side -----------------------------------------------------------
  start() {
    this.expectRegister = false;
  }

  connect(write) {
    if (write) {
      this.expectRegister = true;
    }
  }

  writeByte(value) {
    if (this.expectRegister) {
      this.pointer = value & 0x7f;
      this.expectRegister = false;
      return;
    }
    this.writeRegister(this.pointer, value);
    this.advance();
  }

  writeRegister(reg, value) {
    this.regs[reg] = value;
    if (reg === 0x0a || reg === 0x09 || reg === 0x10) {
      this.update(); // settle the old configuration's samples first
      if (!this.continuous) {
        this.fifo = []; // bypass mode empties the FIFO
        this.word = null;
        this.startNs = null;
      } else if (this.startNs === null) {
        this.update();
      } else {
        // a new rate from here on
        this.startNs = this.nanos();
        this.slots = 0;
      }
    }
  }

  readByte() {
    const reg = this.pointer;
    let value;
    if (reg === 0x3a || reg === 0x3b) {
      this.update();
      const words = Math.min(this.fifo.length, 0x3ff);
      if (reg === 0x3a) {
        value = words & 0xff;
      } else {
        value = ((words >> 8) & 0x03) | (this.overrun ? 0x08 | 0x40 : 0) |
          (this.fifo.length >= FIFO_WORDS ? 0x20 : 0);
        this.overrun = false; // FIFO_OVR_LATCHED clears on reading FIFO_STATUS2
      }
    } else if (reg >= 0x78 && reg <= 0x7e) {
      if (reg === 0x78) {
        this.word = this.fifo.length ? this.fifo.shift() : null;
      }
      value = this.word ? this.word[reg - 0x78] : 0;
    } else {
      value = this.regs[reg];
    }
    this.advance();
    return value;
  }

  advance() {
    if (this.pointer === 0x7e) {
      this.pointer = 0x78; // the FIFO output rolls back in a burst
    } else if (this.regs[0x12] & 0x04) {
      this.pointer = (this.pointer + 1) & 0x7f;
    }
  }
}

/** Attach a target model at `address` to an rp2040js RPI2C controller. */
export function attachI2C(i2c, address, target) {
  let selected = false;
  i2c.onStart = () => {
    target.start();
    i2c.completeStart();
  };
  i2c.onConnect = (addr, mode) => {
    selected = addr === address;
    if (selected) {
      target.connect(mode === 0); // I2CMode.Write is 0
    }
    i2c.completeConnect(selected);
  };
  i2c.onWriteByte = (value) => {
    if (selected) {
      target.writeByte(value);
    }
    i2c.completeWrite(selected);
  };
  i2c.onReadByte = () => {
    i2c.completeRead(selected ? target.readByte() : 0xff);
  };
  i2c.onStop = () => {
    selected = false;
    i2c.completeStop();
  };
}
