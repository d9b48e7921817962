// An MPU-6050 on the emulated I2C bus: the registers the firmware's driver
// (firmware/jerklog_firmware/mpu6.py) uses, with the 1 KB FIFO filling from a raw
// recording at the configured sample rate, in emulated time.
//
// Register facts (MPU-6000/6050 Register Map rev 4.2): SMPLRT_DIV 19h (rate = gyro
// output rate / (1 + SMPLRT_DIV), the gyro output rate 1 kHz with DLPF_CFG 1..6 in
// CONFIG 1Ah, else 8 kHz); GYRO_CONFIG 1Bh FS_SEL[4:3] (131, 65.5, 32.8, 16.4 LSB per
// deg/s); ACCEL_CONFIG 1Ch AFS_SEL[4:3] (16384, 8192, 4096, 2048 LSB per g); FIFO_EN 23h
// (78h: accel and the three gyro axes, 12 bytes a sample in register order, big
// endian); INT_STATUS 3Ah FIFO_OFLOW_INT bit 4, cleared by reading it; USER_CTRL 6Ah
// FIFO_EN bit 6, FIFO_RESET bit 2; FIFO_COUNT_H/L 72h/73h; FIFO_R_W 74h (a burst read
// there keeps reading the FIFO); WHO_AM_I 75h = 68h. When full, the oldest bytes go.
//
// The recording: int16 little endian, 6 a sample (ax, ay, az in mg, gx, gy, gz in
// 0.1 deg/s), converted to counts at the full scale the firmware configured.

const FIFO_BYTES = 1024;
const ACCEL_LSB_PER_G = [16384, 8192, 4096, 2048];
const GYRO_LSB_PER_DPS = [131, 65.5, 32.8, 16.4];

function clamp16(v) {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

export class MPU6050 {
  constructor(samples, nanos, log = () => {}) {
    this.samples = samples;
    this.count = Math.floor(samples.length / 6);
    this.nanos = nanos;
    this.log = log;
    this.regs = new Uint8Array(128);
    this.regs[0x75] = 0x68;
    this.regs[0x6b] = 0x40; // asleep at power-up
    this.pointer = 0;
    this.expectRegister = false;
    this.fifo = [];
    this.overflow = false;
    this.next = 0;
    this.served = 0;
    this.startNs = null;
    this.slots = 0;
    this.endedLogged = false;
    this.latchedCount = 0;
  }

  get rateHz() {
    const dlpf = this.regs[0x1a] & 0x07;
    const base = dlpf >= 1 && dlpf <= 6 ? 1000 : 8000;
    return base / (1 + this.regs[0x19]);
  }

  get running() {
    return (this.regs[0x6a] & 0x40) && this.regs[0x23] === 0x78 && !(this.regs[0x6b] & 0x40);
  }

  update() {
    if (!this.running) {
      return;
    }
    const now = this.nanos();
    if (this.startNs === null) {
      this.startNs = now;
      this.slots = 0;
    }
    const due = Math.floor(((now - this.startNs) * this.rateHz) / 1e9);
    while (this.slots < due) {
      this.slots += 1;
      if (this.next >= this.count) {
        if (!this.endedLogged) {
          this.log(`mpu6050: recording ended after ${this.served} samples`);
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
    const a = ACCEL_LSB_PER_G[(this.regs[0x1c] >> 3) & 3];
    const g = GYRO_LSB_PER_DPS[(this.regs[0x1b] >> 3) & 3];
    const values = [];
    for (let k = 0; k < 3; k++) values.push(clamp16(Math.round((s[o + k] * a) / 1000)));
    for (let k = 0; k < 3; k++) values.push(clamp16(Math.round((s[o + 3 + k] * g) / 10)));
    for (const v of values) {
      this.pushByte((v >> 8) & 0xff); // big endian, register order
      this.pushByte(v & 0xff);
    }
    this.served += 1;
  }

  pushByte(b) {
    if (this.fifo.length >= FIFO_BYTES) {
      this.fifo.shift();
      this.overflow = true;
    }
    this.fifo.push(b);
  }

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
    const reg = this.pointer;
    this.update(); // samples of the old configuration first
    if (reg === 0x6a && value & 0x04) {
      this.fifo = []; // FIFO_RESET
      value &= ~0x04;
    }
    this.regs[reg] = value;
    if (!this.running) {
      this.startNs = null;
    } else if (this.startNs === null) {
      this.update();
    }
    if (reg !== 0x74) {
      this.pointer = (this.pointer + 1) & 0x7f;
    }
  }

  readByte() {
    const reg = this.pointer;
    let value;
    if (reg === 0x72) {
      this.update();
      this.latchedCount = this.fifo.length; // reading the high byte latches both
      value = (this.latchedCount >> 8) & 0xff;
    } else if (reg === 0x73) {
      value = this.latchedCount & 0xff;
    } else if (reg === 0x74) {
      value = this.fifo.length ? this.fifo.shift() : 0;
    } else if (reg === 0x3a) {
      this.update();
      value = this.overflow ? 0x10 : 0;
      this.overflow = false;
    } else {
      value = this.regs[reg];
    }
    if (reg !== 0x74) {
      this.pointer = (this.pointer + 1) & 0x7f;
    }
    return value;
  }
}
