// An emulated Raspberry Pi Pico: rp2040js running a MicroPython rp2 image, its USB CDC
// serial on an inherited file descriptor (a pty's master side, opened by Python), its
// flash kept in a file so the file system survives reboots, and an LSM6DSOX register
// model on I2C0 serving a recording. Started by host/jerklog/sim/pico/emulator.py.
//
// What the stock rp2040js run loop lacks, and this adds: flash erase and program (the
// bootrom's flash functions are replaced by BKPT instructions handled here), USB OUT
// transfers held until the host sends data (rather than answered with empty packets),
// sleeping (WFI) with no timer pending, emulated time kept from running ahead of real
// time, and a chip reset (watchdog, machine.reset(), SIGUSR1) that keeps the flash.
//
// Arguments: --rp2040js DIR --bootrom FILE --flash FILE [--firmware UF2] --serial-fd N
//            [--imu FILE] [--imu-chip lsm6dsox|mpu6050] [--button-pressed]
//            [--cpu-every SECONDS]

import fs from 'node:fs';
import path from 'node:path';
import tty from 'node:tty';
import { pathToFileURL } from 'node:url';

import { LSM6DSOX, attachI2C } from './lsm6dsox.mjs';
import { MPU6050 } from './mpu6050.mjs';

const FLASH_BYTES = 2 * 1024 * 1024; // the Pico's W25Q16 (2 MB)
const NS_PER_CYCLE = 8; // clk_sys 125 MHz
// the IMU on I2C0 (GP4/GP5): --imu-chip lsm6dsox (0x6A, default) or mpu6050 (0x68)
const IMUS = { lsm6dsox: [LSM6DSOX, 0x6a], mpu6050: [MPU6050, 0x68] };
const BUTTON_PIN = 15;
const TX_LIMIT = 1 << 16; // bytes queued towards a host that does not read, then dropped

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '');
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) {
      out[key] = true;
    } else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const log = (msg) => process.stderr.write(`pico: ${msg}\n`);
const rp = await import(
  pathToFileURL(path.join(args.rp2040js, 'node_modules/rp2040js/dist/esm/index.js')).href
);

// -- flash, persisted ----------------------------------------------------------------
function loadUF2(bytes, flash) {
  for (let o = 0; o + 512 <= bytes.length; o += 512) {
    const v = new DataView(bytes.buffer, bytes.byteOffset + o, 512);
    if (v.getUint32(0, true) !== 0x0a324655 || v.getUint32(4, true) !== 0x9e5d5157) {
      continue;
    }
    const target = v.getUint32(12, true);
    const size = v.getUint32(16, true);
    if (target >= 0x10000000 && target + size <= 0x10000000 + flash.length) {
      flash.set(bytes.subarray(o + 32, o + 32 + size), target - 0x10000000);
    }
  }
}

const flashImage = new Uint8Array(FLASH_BYTES).fill(0xff);
if (fs.existsSync(args.flash)) {
  fs.readFileSync(args.flash).copy(Buffer.from(flashImage.buffer), 0, 0, FLASH_BYTES);
} else {
  if (!args.firmware) {
    throw new Error('no flash image and no firmware to make one from');
  }
  loadUF2(fs.readFileSync(args.firmware), flashImage);
  fs.writeFileSync(args.flash, flashImage, { mode: 0o600 });
}
const flashFd = fs.openSync(args.flash, 'r+');

function persist(offset, length) {
  // synchronously, so a killed emulator keeps what the chip had written (as flash does)
  fs.writeSync(flashFd, flashImage, offset, length, offset);
}

// -- the recording the IMU serves ------------------------------------------------------
let imuSamples = new Int16Array(0);
if (args.imu) {
  const raw = fs.readFileSync(args.imu);
  imuSamples = new Int16Array(raw.buffer, raw.byteOffset, Math.floor(raw.length / 2));
}
const imuState = { next: 0, served: 0 }; // the IMU's place in the recording across resets

// -- the serial line -------------------------------------------------------------------
const serialFd = Number(args['serial-fd']);
const serialOut = new tty.WriteStream(serialFd);
const serialIn = new tty.ReadStream(serialFd);
const hostInput = []; // bytes from the host not yet taken by the board
let bytesDropped = 0;
serialOut.on('error', (e) => log(`serial write: ${e.message}`));
serialIn.on('error', (e) => log(`serial read: ${e.message}`));

// -- the bootrom, with the flash functions trapped -------------------------------------
const bootrom = new Uint32Array(4096);
{
  const bytes = fs.readFileSync(args.bootrom);
  new Uint8Array(bootrom.buffer).set(bytes.subarray(0, 16384));
}
const TRAPS = {}; // BKPT number -> name
{
  const h = new Uint16Array(bootrom.buffer);
  const code = (s) => s.charCodeAt(0) | (s.charCodeAt(1) << 8);
  const wanted = { IF: 1, EX: 2, RE: 3, RP: 4, FC: 5, CX: 6 };
  let p = h[0x14 / 2] / 2; // the function table: (code, address) pairs, 0 ends it
  for (; h[p]; p += 2) {
    for (const [name, n] of Object.entries(wanted)) {
      if (h[p] === code(name)) {
        h[(h[p + 1] & ~1) / 2] = 0xbe00 | n; // BKPT #n at the function's first instruction
        TRAPS[n] = name;
      }
    }
  }
  if (Object.keys(TRAPS).length !== 6) {
    throw new Error('bootrom: flash functions not all found');
  }
}

// -- one chip (made again at every reset; flash, serial and the IMU's place survive) ---
let chip;
let cdc;
let imu;
let pendingRead = null; // {endpoint, size}: a USB OUT transfer waiting for host data
let resetRequested = false;

function answerRead() {
  if (!pendingRead || !hostInput.length) {
    return;
  }
  const data = Uint8Array.from(hostInput.splice(0, Math.min(pendingRead.size, hostInput.length)));
  const endpoint = pendingRead.endpoint;
  pendingRead = null;
  chip.usbCtrl.endpointReadDone(endpoint, data);
}

function onBreak(n) {
  const core = chip.core;
  const name = TRAPS[n];
  if (!name) {
    log(`breakpoint ${n} at ${core.PC.toString(16)}: stopped`);
    process.exit(3);
  }
  const r = core.registers;
  if (name === 'RE') {
    // flash_range_erase(addr, count, block_size, block_cmd): erased flash reads 0xFF
    const start = r[0] & 0xffffff;
    const end = Math.min(start + r[1], FLASH_BYTES);
    flashImage.fill(0xff, start, end);
    chip.flash.fill(0xff, start, end);
    persist(start, end - start);
  } else if (name === 'RP') {
    // flash_range_program(addr, data, count): programming only clears bits
    const start = r[0] & 0xffffff;
    const count = Math.min(r[2], FLASH_BYTES - start);
    for (let i = 0; i < count; i++) {
      const b = flashImage[start + i] & chip.readUint8(r[1] + i);
      flashImage[start + i] = b;
      chip.flash[start + i] = b;
    }
    persist(start, count);
  }
  core.PC = core.LR & ~1; // return to the caller (the others need no model: no-ops)
}

function makeChip() {
  chip = new rp.RP2040();
  chip.logger = new rp.ConsoleLogger(rp.LogLevel.Error, true);
  chip.loadBootrom(bootrom); // (this resets the chip, which fills its flash with 0xFF)
  chip.flash.set(flashImage);
  chip.onBreak = onBreak;
  // past the bootrom's own start: boot2 runs straight from flash (rp2040js's XIP needs no
  // set-up), then the image's vector table
  chip.core.PC = 0x10000000;
  const wdog = chip.peripherals[0x40058];
  wdog.onWatchdogTrigger = () => {
    resetRequested = true;
  };
  // the button: a released button on a pulled-up line reads high (rp2040js has no pulls)
  chip.gpio[BUTTON_PIN].setInputValue(!args['button-pressed']);

  cdc = new rp.USBCDC(chip.usbCtrl);
  pendingRead = null;
  cdc.onDeviceConnected = () => log('usb connected');
  cdc.onSerialData = (buffer) => {
    if (serialOut.writableLength > TX_LIMIT) {
      bytesDropped += buffer.length; // nobody reads: a real host would NAK and drop too
      return;
    }
    serialOut.write(Buffer.from(buffer));
  };
  const usb = chip.usbCtrl;
  const cdcRead = usb.onEndpointRead;
  usb.onEndpointRead = (endpoint, size) => {
    if (endpoint === 0) {
      cdcRead(endpoint, size);
      return;
    }
    pendingRead = { endpoint, size }; // held until the host has something to say
    answerRead();
  };

  const [Model, address] = IMUS[args['imu-chip'] || 'lsm6dsox'];
  imu = new Model(imuSamples, () => chip.clock.nanos, log);
  imu.next = imuState.next;
  imu.served = imuState.served;
  attachI2C(chip.i2c[0], address, imu);
}

function resetChip(reason) {
  const why = chip.peripherals[0x40058].reason; // WATCHDOG REASON survives a reset
  imuState.next = imu.next;
  imuState.served = imu.served;
  log(`reset (${reason})`);
  makeChip();
  chip.peripherals[0x40058].reason = why || 2; // FORCE when asked for from outside
}

serialIn.on('data', (data) => {
  for (const b of data) {
    hostInput.push(b);
  }
  if (chip) {
    answerRead();
  }
});

// -- the run loop ----------------------------------------------------------------------
// Emulated time runs as fast as the emulator can, but never ahead of real time: while
// the core sleeps, the clock jumps to the next alarm only as far as real time allows.
const realStart = process.hrtime.bigint();
let emulatedBase = 0; // emulated ns of earlier chips (resets)

function realNs() {
  return Number(process.hrtime.bigint() - realStart);
}

// The CPU share: the part of emulated time the core was not asleep (WFI/WFE), every
// --cpu-every seconds of emulated time, on stderr ("pico: cpu T SHARE").
const cpuEvery = args['cpu-every'] ? Number(args['cpu-every']) * 1e9 : 0;
const cpu = { windowStart: 0, windowEnd: cpuEvery, asleep: 0 };

function reportCpu(now) {
  const span = now - cpu.windowStart;
  log(`cpu ${(now / 1e9).toFixed(1)} ${((100 * (span - cpu.asleep)) / span).toFixed(2)}`);
  cpu.windowStart = now;
  cpu.windowEnd = now + cpuEvery;
  cpu.asleep = 0;
}

function slice() {
  const sliceEnd = Date.now() + 25;
  const core = chip.core;
  const clock = chip.clock;
  while (Date.now() < sliceEnd) {
    for (let i = 0; i < 20000; i++) {
      if (core.waiting) {
        const allowed = realNs() - (emulatedBase + clock.nanos);
        if (allowed <= 0) {
          setTimeout(slice, 1); // asleep and level with real time: let the host talk
          return;
        }
        // to the next alarm, or with none pending up to real time (an interrupt from
        // the host, USB data, wakes the core)
        const next = clock.nanosToNextAlarm;
        const step = next > 0 ? Math.min(next, allowed) : allowed;
        clock.tick(step);
        cpu.asleep += step;
        if (core.waiting && step === allowed) {
          setTimeout(slice, 1);
          return;
        }
      } else {
        clock.tick(core.executeInstruction() * NS_PER_CYCLE);
      }
      if (cpuEvery && clock.nanos >= cpu.windowEnd) {
        reportCpu(clock.nanos);
      }
      if (resetRequested) {
        resetRequested = false;
        cpu.windowStart = 0;
        cpu.windowEnd = cpuEvery;
        cpu.asleep = 0;
        emulatedBase += clock.nanos;
        resetChip('watchdog');
        setImmediate(slice);
        return;
      }
    }
  }
  setImmediate(slice);
}

process.on('SIGUSR1', () => {
  resetRequested = true; // as a watchdog reset: the test's way to cut power mid-copy
});
function finish() {
  if (bytesDropped) {
    log(`${bytesDropped} bytes to a host that did not read them were dropped`);
  }
  fs.closeSync(flashFd);
  process.exit(0);
}
process.on('SIGTERM', finish);
// a board without its harness: stop when the Python process that started us is gone
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) {
    finish();
  }
}, 1000).unref();
process.on('SIGINT', finish);

makeChip();
log(`started: flash ${args.flash}, ${imuSamples.length / 6} IMU samples`);
slice();
