"""The review page: one self-contained HTML file (inline style and script, no external
resource of any kind), which lists the events a page at a time, draws each waveform on a
<canvas> from the JSON the server sends, and marks events from the keyboard.

Keys: j / arrow down next, k / arrow up previous, c confirmed, r not a jerk (rejected),
u unsure, z undo. A mark is shown only once the server has stored it.
"""

PAGE_SIZE = 100        # events per request: the first ones show at once, more as one goes
HEARTBEAT_S = 3        # the page says it is open this often (the server stops without it)

HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jerklog review</title><link rel="icon" href="data:,">
<style>
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#111;
font-size:14px;background:#fafafa}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #bbb;padding:.5em 1em;
z-index:1}
h1{font-size:1.2em;margin:0 0 .2em}
.keys{color:#444;margin:.2em 0} kbd{border:1px solid #999;border-radius:3px;padding:0 .3em;
background:#f4f4f4;font-size:.9em}
#status{margin-left:1em;color:#444} #status.err{color:#a50f15;font-weight:bold}
main{padding:.5em 1em}
.ev{display:flex;align-items:center;gap:1em;background:#fff;border:2px solid #ddd;
border-radius:4px;margin:.35em 0;padding:.3em .6em}
.ev.sel{border-color:#0072B2;box-shadow:0 0 0 2px #0072B2 inset}
.info{width:17em;font-size:12.5px;line-height:1.35} .info b{font-size:13.5px}
canvas{width:560px;height:130px;flex:none}
.mark{width:7em;font-weight:bold;text-align:center;padding:.2em;border-radius:3px}
.m-confirmed .mark{background:#009E73;color:#fff} .m-rejected .mark{background:#D55E00;
color:#fff} .m-unsure .mark{background:#E69F00;color:#000}
.m-confirmed{border-left:8px solid #009E73} .m-rejected{border-left:8px solid #D55E00}
.m-unsure{border-left:8px solid #E69F00}
button{font-size:13px;margin:.1em}
#more{padding:1em;color:#666}
</style></head><body>
<header><h1>jerklog review: is each event a jerk?</h1>
<div class="keys"><kbd>j</kbd>/<kbd>&darr;</kbd> next &middot; <kbd>k</kbd>/<kbd>&uarr;</kbd>
previous &middot; <kbd>c</kbd> confirmed &middot; <kbd>r</kbd> not a jerk &middot;
<kbd>u</kbd> unsure &middot; <kbd>z</kbd> undo
<button id="undo" type="button">Undo (z)</button><span id="status"></span></div>
<div id="counts">loading&hellip;</div></header>
<main id="list"></main><div id="more"></div>
<script nonce="%(nonce)s">
"use strict";
const PAGE = %(page)d, HEARTBEAT_MS = %(heartbeat_ms)d;
const LABEL = {confirmed: "confirmed", rejected: "not a jerk", unsure: "unsure"};
const AXIS = [["#0072B2", "x"], ["#E69F00", "y"], ["#009E73", "z"]];
let events = [], total = null, sel = -1, loading = false;
const list = document.getElementById("list"), more = document.getElementById("more");
const statusEl = document.getElementById("status");

function say(text, err) { statusEl.textContent = text; statusEl.className = err ? "err" : ""; }

async function api(path, body) {
  const opt = body === undefined ? {} : {method: "POST", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json"}};
  const r = await fetch(path, opt);
  if (!r.ok) throw new Error((await r.text()) || r.status);
  return r.json();
}

function showCounts(c) {
  document.getElementById("counts").textContent = total + " events: " + c.confirmed +
    " confirmed, " + c.rejected + " not a jerk, " + c.unsure + " unsure, " + c.unmarked +
    " not yet reviewed";
}

function nice(x) {  // a round scale-bar length at most x: 1, 2 or 5 times a power of ten
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [5, 2, 1]) if (m * p <= x) return m * p;
  return p;
}

function fmt(v) { return v >= 1 ? String(v) : v.toPrecision(1); }

function draw(cv, w) {
  const dpr = window.devicePixelRatio || 1, W = 560, H = 130;
  cv.width = W * dpr; cv.height = H * dpr;
  const g = cv.getContext("2d");
  g.scale(dpr, dpr); g.font = "11px system-ui,sans-serif"; g.fillStyle = "#111";
  if (!w) { g.fillText("no waveform stored for this event", 10, H / 2); return; }
  const n = w.acc[0].length, L = 8, R = 70;
  const lanes = w.gyro ? [[6, 80], [92, 124]] : [[6, 118]];
  const x = i => L + (W - L - R) * i / (n - 1);
  const tx = t => x((t - w.t0_ms) / w.dt_ms);
  // acceleration lane: the three axes, gravity removed, one scale for all three
  let amax = 1;
  for (const a of w.acc) for (const v of a) amax = Math.max(amax, Math.abs(v));
  const [a0, a1] = lanes[0], mid = (a0 + a1) / 2, ya = v => mid - v / amax * (a1 - a0) / 2;
  g.strokeStyle = "#ccc"; g.lineWidth = 1;
  g.beginPath(); g.moveTo(L, mid); g.lineTo(W - R, mid); g.stroke();
  g.setLineDash([3, 3]); g.strokeStyle = "#666";
  g.beginPath(); g.moveTo(tx(0), 2); g.lineTo(tx(0), H - 2); g.stroke(); g.setLineDash([]);
  w.acc.forEach((a, k) => {
    g.strokeStyle = AXIS[k][0]; g.lineWidth = 1.3; g.beginPath();
    a.forEach((v, i) => i ? g.lineTo(x(i), ya(v)) : g.moveTo(x(i), ya(v))); g.stroke();
  });
  // scale bars: g (vertical) at the right of the lane, 100 ms (horizontal) under it
  const bar = nice(amax * 0.8), bh = bar / amax * (a1 - a0) / 2, bx = W - R + 8;
  g.strokeStyle = "#111"; g.lineWidth = 2;
  g.beginPath(); g.moveTo(bx, mid); g.lineTo(bx, mid - bh); g.stroke();
  g.fillText(fmt(bar / 1000) + " g", bx + 4, mid - bh / 2 + 4);
  const ms = tx(w.t0_ms + 100) - tx(w.t0_ms);
  g.beginPath(); g.moveTo(W - R - ms, H - 3); g.lineTo(W - R, H - 3); g.stroke();
  g.fillText("100 ms", W - R + 4, H - 2);
  AXIS.forEach(([c, name], k) => { g.fillStyle = c; g.fillText(name, bx + 4 + 12 * k, 12); });
  g.fillStyle = "#111";
  if (w.gyro) {  // rotation lane: |rotation rate|
    const [b0, b1] = lanes[1];
    let gmax = 10; for (const v of w.gyro) gmax = Math.max(gmax, v);
    const yg = v => b1 - v / gmax * (b1 - b0);
    g.strokeStyle = "#555"; g.lineWidth = 1.2; g.beginPath();
    w.gyro.forEach((v, i) => i ? g.lineTo(x(i), yg(v)) : g.moveTo(x(i), yg(v))); g.stroke();
    const gb = nice(gmax * 0.8), gh = gb / gmax * (b1 - b0);
    g.strokeStyle = "#111"; g.lineWidth = 2;
    g.beginPath(); g.moveTo(bx, b1); g.lineTo(bx, b1 - gh); g.stroke();
    g.fillText(fmt(gb / 10) + " \\u00b0/s", bx + 4, b1 - gh / 2 + 4);
  }
}

function row(ev) {
  const d = document.createElement("div");
  d.className = "ev"; d.id = "ev" + ev.i; d.dataset.i = ev.i;
  const info = document.createElement("div"); info.className = "info";
  info.innerHTML = "<b></b><br><span></span><br><span></span><br><span></span>";
  const s = info.querySelectorAll("b,span");
  s[0].textContent = "#" + (ev.i + 1) + " " + ev.region;
  s[1].textContent = ev.time;
  s[2].textContent = ev.kind + ", " + ev.peak_g + " g" +
    (ev.peak_dps === null ? "" : ", " + ev.peak_dps + " \\u00b0/s") + ", " + ev.duration_ms + " ms";
  s[3].textContent = "confidence " + ev.confidence + (ev.context ? ", " + ev.context : "");
  const cv = document.createElement("canvas");
  const m = document.createElement("div"); m.className = "mark";
  const btns = document.createElement("div");
  for (const [k, key] of [["confirmed", "c"], ["rejected", "r"], ["unsure", "u"]]) {
    const b = document.createElement("button"); b.type = "button";
    b.textContent = LABEL[k] + " (" + key + ")";
    b.addEventListener("click", e => { e.stopPropagation(); select(ev.i); mark(k); });
    btns.appendChild(b);
  }
  d.append(info, cv, m, btns);
  d.addEventListener("click", () => select(ev.i));
  list.appendChild(d);
  draw(cv, ev.wave);
  paint(ev);
}

function paint(ev) {
  const d = document.getElementById("ev" + ev.i);
  if (!d) return;
  d.classList.remove("m-confirmed", "m-rejected", "m-unsure");
  if (ev.mark) d.classList.add("m-" + ev.mark);
  d.querySelector(".mark").textContent = ev.mark ? LABEL[ev.mark] : "";
  d.dataset.mark = ev.mark || "";
}

async function load() {
  if (loading || (total !== null && events.length >= total)) return;
  loading = true;
  try {
    const r = await api("api/events?offset=" + events.length + "&limit=" + PAGE);
    total = r.total;
    for (const ev of r.events) { events[ev.i] = ev; row(ev); }
    showCounts(r.counts);
    if (sel < 0 && events.length) { select(0); window.firstShownMs = performance.now(); }
    more.textContent = events.length < total ? "more below\\u2026" :
      (total ? "end of the list" : "no events in this period");
  } catch (e) { say("could not load events: " + e.message, true); }
  loading = false;
  if (events.length < total && more.getBoundingClientRect().top < innerHeight + 800) load();
}

function select(i) {
  if (i < 0 || i >= events.length) return;
  const old = document.querySelector(".ev.sel");
  if (old) old.classList.remove("sel");
  sel = i;
  const d = document.getElementById("ev" + i);
  d.classList.add("sel"); d.scrollIntoView({block: "nearest"});
  if (i >= events.length - 20) load();
}

// Marks and undos go to the server one after another, in the order of the keys; the
// selection moves on at once, so a fast reviewer never waits, and a mark shows once stored.
let queue = Promise.resolve();
function enqueue(job) { queue = queue.then(job).catch(e => say("not saved: " + e.message, true)); }

function mark(m) {
  const ev = events[sel];
  if (!ev) return;
  select(sel + 1);
  enqueue(async () => {
    const r = await api("api/mark", {device_id: ev.device_id, boot_id: ev.boot_id,
                                     seq: ev.seq, mark: m});
    ev.mark = r.mark; paint(ev); showCounts(r.counts);
    say("#" + (ev.i + 1) + " " + LABEL[m] + ": saved");
  });
}

function undo() {
  enqueue(async () => {
    const r = await api("api/undo", {});
    if (r.i === null) say("nothing to undo");
    else {
      const ev = events[r.i];
      if (ev) { ev.mark = r.mark; paint(ev); select(r.i); }
      say("#" + (r.i + 1) + " undone" + (r.mark ? " (now " + LABEL[r.mark] + ")" : ""));
    }
    showCounts(r.counts);
  });
}

document.addEventListener("keydown", e => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const k = e.key;
  if (k === "j" || k === "ArrowDown") select(sel + 1);
  else if (k === "k" || k === "ArrowUp") select(sel - 1);
  else if (k === "c") mark("confirmed");
  else if (k === "r") mark("rejected");
  else if (k === "u") mark("unsure");
  else if (k === "z") undo();
  else return;
  e.preventDefault();
});
document.getElementById("undo").addEventListener("click", undo);
new IntersectionObserver(es => { if (es.some(x => x.isIntersecting)) load(); })
  .observe(more);
// The server stops when the page has gone quiet; a hidden tab says so (browsers slow its
// timers), and closing the tab says goodbye.
function alive() { fetch("api/alive?hidden=" + (document.hidden ? 1 : 0), {method: "POST"})
  .catch(() => say("the review server has stopped: marks given are stored", true)); }
setInterval(alive, HEARTBEAT_MS);
document.addEventListener("visibilitychange", alive);
addEventListener("pagehide", () => navigator.sendBeacon("api/bye"));
load();
</script></body></html>
"""


def page(nonce: str) -> bytes:
    """The page's HTML; nonce: the one inline script the page's security policy runs."""
    return (HTML % dict(nonce=nonce, page=PAGE_SIZE, heartbeat_ms=HEARTBEAT_S * 1000)
            ).encode("utf-8")
