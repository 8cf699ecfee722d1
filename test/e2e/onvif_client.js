// Drives one bridge device with the npm "onvif" package (agsh/onvif, the
// client inside UniFi Protect, Homebridge and Node-RED) the way those
// applications do: connect with credentials, list profiles and video
// sources, ask for stream and snapshot URIs, pull events. Prints one JSON object on
// stdout; exits non-zero on any error or warning from the library.
//
// Usage: node onvif_client.js HOST PORT USER PASSWORD
'use strict';

const { Cam } = require('onvif');

const [host, port, username, password] = process.argv.slice(2);
if (!host || !port) {
  console.error('usage: node onvif_client.js HOST PORT USER PASSWORD');
  process.exit(2);
}

function fail(what, err) {
  console.error(what + ': ' + (err && err.message ? err.message : String(err)));
  process.exit(1);
}

function call(cam, method, ...args) {
  return new Promise((resolve, reject) => {
    cam[method](...args, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const warnings = [];
const cam = new Cam({ hostname: host, port: Number(port), username, password, timeout: 10000, autoconnect: false });
cam.on('warning', (w) => warnings.push(String(w)));

(async () => {
  await call(cam, 'connect').catch((e) => fail('connect', e));
  const info = await call(cam, 'getDeviceInformation').catch((e) => fail('GetDeviceInformation', e));
  const profiles = (cam.profiles || []).map((p) => ({
    token: p.$.token,
    name: p.name,
    encoding: p.videoEncoderConfiguration && p.videoEncoderConfiguration.encoding,
    sourceToken: p.videoSourceConfiguration && p.videoSourceConfiguration.sourceToken,
  }));
  const videoSources = [].concat(cam.videoSources || []).map((s) => ({ token: s.$.token }));
  const streams = {};
  const snapshots = {};
  for (const p of profiles) {
    const s = await call(cam, 'getStreamUri', { protocol: 'RTSP', profileToken: p.token }).catch((e) => fail('GetStreamUri ' + p.token, e));
    streams[p.token] = s.uri;
    const j = await call(cam, 'getSnapshotUri', { profileToken: p.token }).catch((e) => fail('GetSnapshotUri ' + p.token, e));
    snapshots[p.token] = j.uri;
  }
  // Events the way Node-RED and Homebridge read them: a pull point loop
  // started by an 'event' listener. Collect what arrives in the first
  // seconds (the property states are sent at once), then stop.
  const events = [];
  const eventErrors = [];
  await new Promise((resolve) => {
    const onEvent = (m) => {
      const msg = m.message && m.message.message;
      const items = [].concat((msg && msg.data && msg.data.simpleItem) || []);
      events.push({
        topic: m.topic && (m.topic._ || m.topic),
        operation: msg && msg.$ && msg.$.PropertyOperation,
        data: items.map((i) => i.$ && { name: i.$.Name, value: String(i.$.Value) }),
      });
    };
    cam.on('eventsError', (e) => eventErrors.push(e && e.message ? e.message : String(e)));
    cam.on('event', onEvent);
    setTimeout(() => { cam.removeListener('event', onEvent); resolve(); }, 4000);
  });
  process.stdout.write(JSON.stringify({
    deviceInformation: info,
    media2: Boolean(cam.media2Support),
    profiles,
    videoSources,
    activeSource: cam.activeSource ? { sourceToken: cam.activeSource.sourceToken, profileToken: cam.activeSource.profileToken, encoding: cam.activeSource.encoding } : null,
    streams,
    snapshots,
    events,
    eventErrors,
    warnings,
  }) + '\n');
  process.exit(0);
})().catch((e) => fail('client', e));
