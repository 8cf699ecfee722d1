// The admin page: polls api/cameras and keeps one card per camera up to
// date. Plain JavaScript, no build step, nothing loaded from elsewhere.
"use strict";

// How often the status is polled.
const POLL_MS = 1000;
// How often a camera shown as a still gets a new snapshot.
const STILL_MS = 3000;
// Browsers open at most six connections to one server over HTTP/1.1 and
// every live MJPEG view holds one for good: beyond this many cameras the
// page shows stills, and the user picks which cameras play live.
const MAX_LIVE = 4;

const URL_LABELS = [
  ["onvif", "ONVIF"],
  ["rtsp_jpeg", "RTSP JPEG"],
  ["rtsp_h264", "RTSP H.264"],
  ["mjpeg", "MJPEG"],
  ["snapshot", "Snapshot"],
];

const cards = new Map(); // camera id -> card
const liveOrder = []; // ids of the cameras the user switched to live, oldest first
let firstRender = true;

const $ = (root, sel) => root.querySelector(sel);

function fmtAge(s) {
  if (s === null || s === undefined) return "never";
  if (s < 10) return s.toFixed(1) + " s ago";
  if (s < 120) return Math.round(s) + " s ago";
  if (s < 7200) return Math.round(s / 60) + " min ago";
  return Math.round(s / 3600) + " h ago";
}

function fmtViewers(v) {
  const parts = [];
  if (v.mjpeg) parts.push("MJPEG " + v.mjpeg);
  if (v.raw_mjpeg) parts.push("raw " + v.raw_mjpeg);
  if (v.wav) parts.push("WAV " + v.wav);
  if (v.rtsp) parts.push("RTSP " + v.rtsp);
  return parts.length > 1 ? v.total + " (" + parts.join(", ") + ")" : String(v.total);
}

function stamp() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate()) + "-" + p(d.getHours()) + p(d.getMinutes()) + p(d.getSeconds());
}

// copyText copies to the clipboard; on plain http (not a secure context)
// the asynchronous clipboard API does not exist and a selection is copied.
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.className = "offscreen";
  document.body.appendChild(ta);
  ta.select();
  const ok = document.execCommand("copy");
  ta.remove();
  if (!ok) throw new Error("copy refused");
}

function newCard(cam) {
  const el = document.getElementById("camera-template").content.firstElementChild.cloneNode(true);
  const card = {
    id: cam.id,
    el,
    img: $(el, ".picture"),
    placeholder: $(el, ".placeholder"),
    placeholderText: $(el, ".placeholder-text"),
    mode: $(el, ".mode"),
    urls: $(el, ".urls"),
    src: "", // what the picture shows now: "" (nothing), the stream or a snapshot
    frames: 0,
    online: false,
    stillTimer: 0,
    urlsKey: "",
  };
  card.img.alt = "Live picture of " + cam.name;
  // Hide the placeholder as soon as a picture is there (the poll does it
  // too, for streams that fire no load event).
  card.img.addEventListener("load", () => { card.placeholder.hidden = card.img.naturalWidth > 0; });
  card.mode.addEventListener("click", () => toggleLive(card));
  return card;
}

function wantsLive(card) {
  return cards.size <= MAX_LIVE || liveOrder.includes(card.id);
}

function toggleLive(card) {
  const i = liveOrder.indexOf(card.id);
  if (cards.size <= MAX_LIVE) return;
  if (i >= 0) {
    liveOrder.splice(i, 1);
  } else {
    liveOrder.push(card.id);
    while (liveOrder.length > MAX_LIVE) liveOrder.shift();
  }
  for (const c of cards.values()) updatePicture(c, c.last, true);
}

// updatePicture shows the stream (live) or a snapshot refreshed every few
// seconds (still) while the camera is online, and a placeholder otherwise:
// asking an offline camera for pictures would only produce errors.
function updatePicture(card, cam, force) {
  card.last = cam;
  const live = wantsLive(card);
  card.mode.hidden = cards.size <= MAX_LIVE;
  card.mode.textContent = live ? "Live" : "Still";
  card.mode.classList.toggle("on", live);
  const restarted = cam.frames < card.frames; // a new session: the old stream is gone
  card.frames = cam.frames;
  if (!cam.online || !cam.live || document.hidden) {
    clearTimeout(card.stillTimer);
    card.stillTimer = 0;
    if (card.src) {
      card.img.removeAttribute("src");
      card.src = "";
    }
    card.img.hidden = true;
    card.placeholder.hidden = false;
    card.placeholderText.textContent = !cam.live ? "No picture" :
      document.hidden ? "Paused" : cam.state === "connecting" ? "Connecting…" : "Offline";
    card.online = false;
    return;
  }
  const wasOnline = card.online;
  card.online = true;
  if (live) {
    clearTimeout(card.stillTimer);
    card.stillTimer = 0;
    if (card.src !== "live" || !wasOnline || restarted || force) {
      card.src = "live";
      card.img.src = cam.live + "?t=" + Date.now();
    }
  } else if (card.src !== "still" || force) {
    card.src = "still";
    refreshStill(card);
  }
  // The picture lies over the placeholder and covers it once a frame has
  // been decoded (a multipart stream fires no reliable load event).
  card.img.hidden = false;
  card.placeholder.hidden = card.img.naturalWidth > 0;
  card.placeholderText.textContent = "Loading…";
}

function refreshStill(card) {
  clearTimeout(card.stillTimer);
  const cam = card.last;
  if (!cam || !card.online || card.src !== "still") return;
  card.img.src = cam.snapshot + "?t=" + Date.now();
  card.stillTimer = setTimeout(() => refreshStill(card), STILL_MS);
}

function updateURLs(card, cam) {
  const urls = cam.urls || {};
  const key = JSON.stringify(urls);
  if (key === card.urlsKey) return;
  card.urlsKey = key;
  card.urls.replaceChildren();
  for (const [k, label] of URL_LABELS) {
    if (!urls[k]) continue;
    const li = document.getElementById("url-template").content.firstElementChild.cloneNode(true);
    $(li, ".url-label").textContent = label;
    $(li, ".url-value").textContent = urls[k];
    const btn = $(li, ".copy");
    btn.title = "Copy the " + label + " URL";
    btn.addEventListener("click", async () => {
      try {
        await copyText(urls[k]);
        btn.textContent = "Copied";
        btn.classList.add("done");
      } catch {
        btn.textContent = "Select it";
      }
      setTimeout(() => { btn.textContent = "Copy"; btn.classList.remove("done"); }, 1500);
    });
    card.urls.appendChild(li);
  }
}

function fmtSize(n) {
  if (n < 1e6) return Math.max(1, Math.round(n / 1e3)) + " kB";
  if (n < 1e9) return (n / 1e6).toFixed(1) + " MB";
  return (n / 1e9).toFixed(2) + " GB";
}

function fmtLength(s) {
  if (s < 90) return Math.round(s) + " s";
  if (s < 5400) return Math.round(s / 60) + " min";
  return (s / 3600).toFixed(1) + " h";
}

function fmtStart(iso) {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
}

// loadRecordings fills a camera's list of recordings, newest first. It runs
// when the list is opened, not at every poll: a camera can have hundreds.
async function loadRecordings(card) {
  const list = $(card.el, ".rec-list");
  const cam = card.last;
  if (!cam || !cam.recording) return;
  try {
    const res = await fetch(cam.recording.list, { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    const data = await res.json();
    const items = data.recordings.slice().reverse().map((r) => {
      const li = document.getElementById("recording-template").content.firstElementChild.cloneNode(true);
      $(li, ".rec-start").textContent = fmtStart(r.start);
      $(li, ".rec-length").textContent = fmtLength(r.duration_seconds) + (r.complete ? "" : " (being written)");
      $(li, ".rec-size").textContent = fmtSize(r.size);
      // Play opens the recording at its recorded pace as MJPEG, which
      // every browser shows in a tab of its own; Download is the file.
      const play = $(li, ".rec-play");
      play.href = r.play;
      play.hidden = !r.play;
      const a = $(li, ".rec-download");
      a.href = r.url;
      a.download = r.file;
      return li;
    });
    if (items.length === 0) {
      const li = document.createElement("li");
      li.className = "rec rec-empty";
      li.textContent = "No recording yet.";
      items.push(li);
    }
    list.replaceChildren(...items);
  } catch (e) {
    const li = document.createElement("li");
    li.className = "rec rec-empty";
    li.textContent = "Cannot list the recordings (" + e.message + ").";
    list.replaceChildren(li);
  }
}

function updateRecording(card, cam) {
  const det = $(card.el, ".recordings");
  det.hidden = !cam.recording;
  if (!cam.recording) return;
  const r = cam.recording;
  const state = $(card.el, ".rec-state");
  state.textContent = r.paused ? "· paused: " + r.paused : r.active ? "· recording" : "· waiting for frames";
  state.className = "rec-state " + (r.paused ? "bad" : r.active ? "ok" : "");
  if (!card.recToggle) {
    card.recToggle = true;
    det.addEventListener("toggle", () => { if (det.open) loadRecordings(card); });
  }
}

function updateCard(card, cam) {
  const el = card.el;
  $(el, ".name").textContent = cam.name;
  $(el, ".ip").textContent = cam.ip;
  const state = $(el, ".state");
  state.textContent = cam.online ? "Live" : cam.state === "connecting" ? "Connecting" : "Offline";
  state.className = "badge state " + (cam.online ? "ok" : cam.state === "connecting" ? "wait" : "bad");
  el.classList.toggle("offline", !cam.online);
  const motion = $(el, ".motion");
  motion.hidden = cam.motion !== true;
  $(el, ".fps").textContent = cam.online ? cam.fps.toFixed(1) : "–";
  $(el, ".age").textContent = fmtAge(cam.last_frame_age_seconds);
  $(el, ".dropped").textContent = String(cam.frames_dropped);
  $(el, ".reconnects").textContent = String(cam.reconnects);
  $(el, ".viewers").textContent = fmtViewers(cam.viewers);
  const snap = $(el, ".snapshot");
  snap.hidden = !cam.snapshot;
  if (cam.snapshot) {
    snap.href = cam.snapshot;
    snap.classList.toggle("disabled", !cam.online);
    snap.setAttribute("aria-disabled", String(!cam.online));
  }
  updateURLs(card, cam);
  updateRecording(card, cam);
  updatePicture(card, cam, false);
}

function render(status) {
  const main = document.getElementById("cameras");
  const seen = new Set();
  let online = 0, viewers = 0;
  for (const cam of status.cameras) {
    seen.add(cam.id);
    let card = cards.get(cam.id);
    if (!card) {
      card = newCard(cam);
      cards.set(cam.id, card);
    }
    main.appendChild(card.el); // keeps the cards in the server's order
    if (cam.online) online++;
    viewers += cam.viewers.total;
  }
  for (const [id, card] of cards) {
    if (!seen.has(id)) {
      clearTimeout(card.stillTimer);
      card.img.removeAttribute("src");
      card.el.remove();
      cards.delete(id);
    }
  }
  for (const cam of status.cameras) updateCard(cards.get(cam.id), cam);
  const n = status.cameras.length;
  document.getElementById("summary").textContent = n === 0 ? "No camera configured." :
    n + (n === 1 ? " camera" : " cameras") + " · " + online + " streaming · " + viewers + (viewers === 1 ? " viewer" : " viewers");
  document.title = (online < n ? "⚠ " : "") + "chinesium · " + online + "/" + n;
  if (firstRender) {
    firstRender = false;
    document.body.classList.add("ready");
  }
}

function setBanner(text) {
  const b = document.getElementById("banner");
  b.textContent = text;
  b.hidden = !text;
}

async function poll() {
  try {
    const res = await fetch("api/cameras", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    render(await res.json());
    setBanner("");
  } catch (e) {
    setBanner("The bridge does not answer (" + e.message + "); trying again…");
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a.snapshot");
  if (!a) return;
  if (a.classList.contains("disabled")) {
    ev.preventDefault();
    return;
  }
  // A fresh name for every snapshot saved.
  const card = a.closest(".camera");
  const name = card ? $(card, ".name").textContent : "camera";
  a.download = name + "-" + stamp() + ".jpg";
});

// A hidden tab holds no streams open.
document.addEventListener("visibilitychange", () => {
  for (const c of cards.values()) if (c.last) updatePicture(c, c.last, true);
});

poll();
