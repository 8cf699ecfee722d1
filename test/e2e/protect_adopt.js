// Adopts one bridge device the way UniFi Protect does, with the npm
// "onvif" package Protect runs (its stack traces point into
// node_modules/onvif): connect with credentials (GetSystemDateAndTime,
// GetServices, GetProfiles, GetVideoSources), then GetDeviceInformation,
// GetNetworkInterfaces, and GetStreamUri and GetSnapshotUri of the H.264
// profiles, the only ones Protect adopts. Prints one JSON object on
// stdout with what Protect reads; exits non-zero on any error.
//
// Usage: node protect_adopt.js HOST PORT USER PASSWORD
'use strict';

const { Cam } = require('onvif');

const [host, port, username, password] = process.argv.slice(2);

function call(cam, method, ...args) {
  return new Promise((resolve, reject) => {
    cam[method](...args, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

(async () => {
  const cam = new Cam({ hostname: host, port: Number(port), username, password, timeout: 10000, autoconnect: false });
  await call(cam, 'connect');
  const info = await call(cam, 'getDeviceInformation');
  const nics = [].concat(await call(cam, 'getNetworkInterfaces'));
  const profiles = [];
  for (const p of cam.profiles || []) {
    const vc = p.videoEncoderConfiguration;
    if (!vc || vc.encoding !== 'H264') continue;
    const stream = await call(cam, 'getStreamUri', { protocol: 'RTSP', profileToken: p.$.token });
    const snapshot = await call(cam, 'getSnapshotUri', { profileToken: p.$.token });
    profiles.push({
      token: p.$.token,
      width: vc.resolution && vc.resolution.width,
      height: vc.resolution && vc.resolution.height,
      frameRateLimit: vc.rateControl && vc.rateControl.frameRateLimit,
      bitrateLimit: vc.rateControl && vc.rateControl.bitrateLimit,
      h264Profile: vc.H264 && vc.H264.H264Profile,
      govLength: vc.H264 && vc.H264.govLength,
      streamUri: stream.uri,
      snapshotUri: snapshot.uri,
    });
  }
  process.stdout.write(JSON.stringify({
    serial: info.serialNumber,
    firmware: info.firmwareVersion,
    manufacturer: info.manufacturer,
    model: info.model,
    hwAddress: nics.map((n) => n.info && n.info.hwAddress),
    profiles,
  }) + '\n');
})().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
