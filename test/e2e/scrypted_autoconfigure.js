// Runs Scrypted's ONVIF "auto configure" against one bridge device, with
// the npm "onvif" package Scrypted's ONVIF plugin uses. The steps are those
// of koush/scrypted plugins/onvif/src/onvif-configure.ts (getCodecs,
// configureCodecs) and onvif-api.ts (getVideoEncoderConfigurationOptions),
// driven by common/src/autoconfigure-codecs.ts (autoconfigureCodecs), with
// the camera-independent parts kept and the Scrypted SDK left out.
// Prints one JSON object on stdout: the streams Scrypted found, what it
// configured, and every encoder configuration read back afterwards by
// GetProfiles, GetVideoEncoderConfigurations and
// GetVideoEncoderConfiguration; "errors" holds what Scrypted would report.
//
// Usage: node scrypted_autoconfigure.js HOST PORT USER PASSWORD
'use strict';

const { Cam } = require('onvif');

const [host, port, username, password] = process.argv.slice(2);

function call(cam, method, ...args) {
  return new Promise((resolve, reject) => {
    cam[method](...args, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const MEGABIT = 1024 * 1000;

// autoconfigure-codecs.ts getBitrateForResolution
function getBitrateForResolution(resolution) {
  if (resolution >= 3840 * 2160) return 8 * MEGABIT;
  if (resolution >= 2688 * 1520) return 3 * MEGABIT;
  if (resolution >= 1920 * 1080) return 2 * MEGABIT;
  if (resolution >= 1280 * 720) return MEGABIT;
  if (resolution >= 640 * 480) return MEGABIT / 2;
  return MEGABIT / 4;
}

// onvif-configure.ts toOnvifAudioCodec
const onvifToFfmpegAudioCodecMap = { 'MP4A-LATM': 'aac', aac: 'aac', PCMU: 'pcm_mulaw', PCMA: 'pcm_alaw' };
function toOnvifAudioCodec(codec) {
  for (const [key, value] of Object.entries(onvifToFfmpegAudioCodecMap)) {
    if (value === codec) return key;
  }
  return codec;
}

const ensureArray = (value) => (Array.isArray(value) ? value : [value]);

// onvif-api.ts getVideoEncoderConfigurationOptions
async function getVideoEncoderConfigurationOptions(cam, profileToken) {
  const options = await call(cam, 'getVideoEncoderConfigurationOptions', { profileToken });
  const codecs = [];
  if (options.H264) codecs.push('h264');
  if (options.H265) codecs.push('h265');
  let qualityRange, fpsRange, keyframeIntervalRange, bitrateRange;
  const resolutions = [];
  const profiles = [];
  const H264 = (options.extension && options.extension.H264) || options.H264;
  if (H264) {
    if (H264.H264ProfilesSupported) profiles.push(...ensureArray(H264.H264ProfilesSupported).map((p) => p.toLowerCase()));
    if (H264.resolutionsAvailable) resolutions.push(...ensureArray(H264.resolutionsAvailable).map((r) => [r.width, r.height]));
    if (H264.frameRateRange && (H264.frameRateRange.min || H264.frameRateRange.max)) fpsRange = [H264.frameRateRange.min, H264.frameRateRange.max];
    if (H264.govLengthRange && (H264.govLengthRange.min || H264.govLengthRange.max)) keyframeIntervalRange = [H264.govLengthRange.min, H264.govLengthRange.max];
    if (H264.bitrateRange && (H264.bitrateRange.min || H264.bitrateRange.max)) bitrateRange = [H264.bitrateRange.min, H264.bitrateRange.max];
  }
  if (options.qualityRange && (options.qualityRange.min || options.qualityRange.max)) qualityRange = [options.qualityRange.min, options.qualityRange.max];
  return { codecs, qualityRange, fpsRange, keyframeIntervalRange, resolutions, profiles, bitrateRange };
}

const sent = [];

// onvif-configure.ts configureCodecs
async function configureCodecs(cam, options) {
  const caps = await call(cam, 'getMediaServiceCapabilities');
  if (!caps.profileCapabilities) throw new Error('This camera may not support encoding configuration.');
  const profiles = await call(cam, 'getProfiles');
  const profile = profiles.find((p) => p.$.token === options.id);
  const vc = profile.videoEncoderConfiguration;
  const ac = profile.audioEncoderConfiguration;
  const originalVideo = JSON.stringify(vc);
  const originalAudio = JSON.stringify(ac);
  const videoOptions = options.video;
  const audioOptions = options.audio;
  if (videoOptions && videoOptions.codec) {
    const key = { h264: 'H264', h265: 'H265' }[videoOptions.codec];
    if (key) {
      vc.encoding = key;
      if (videoOptions.keyframeInterval) {
        vc[key] = vc[key] || {};
        vc[key].govLength = videoOptions.keyframeInterval;
      }
      const p = { baseline: 'Baseline', main: 'Main', high: 'High' }[videoOptions.profile];
      if (p) {
        vc[key] = vc[key] || {};
        vc[key].profile = p;
      }
    }
  }
  if (videoOptions && videoOptions.width && videoOptions.height) {
    vc.resolution = vc.resolution || {};
    vc.resolution.width = videoOptions.width;
    vc.resolution.height = videoOptions.height;
  }
  if (videoOptions && videoOptions.bitrate) {
    vc.rateControl = vc.rateControl || {};
    vc.rateControl.bitrateLimit = Math.floor(videoOptions.bitrate / 1000);
  }
  if (videoOptions && videoOptions.fps) {
    vc.rateControl = vc.rateControl || {};
    vc.rateControl.frameRateLimit = videoOptions.fps;
    vc.rateControl.encodingInterval = 1;
  }
  if (JSON.stringify(vc) !== originalVideo) {
    sent.push({ op: 'SetVideoEncoderConfiguration', token: vc.$.token });
    await call(cam, 'setVideoEncoderConfiguration', vc);
  }
  if (ac) {
    if (audioOptions && audioOptions.codec) ac.encoding = toOnvifAudioCodec(audioOptions.codec);
    if (audioOptions && audioOptions.bitrate) ac.bitrate = Math.floor(audioOptions.bitrate / 1000);
    if (audioOptions && audioOptions.sampleRate) ac.sampleRate = audioOptions.sampleRate / 1000;
    if (JSON.stringify(ac) !== originalAudio) {
      sent.push({ op: 'SetAudioEncoderConfiguration', token: ac.$.token, encoding: ac.encoding });
      await call(cam, 'setAudioEncoderConfiguration', ac);
    }
  }
  const configuredVideo = await getVideoEncoderConfigurationOptions(cam, profile.$.token);
  if (videoOptions && videoOptions.bitrateControl && vc.rateControl && vc.rateControl.$ && vc.rateControl.$.ConstantBitRate !== undefined) {
    const constant = videoOptions.bitrateControl === 'constant';
    if (vc.rateControl.$.ConstantBitRate !== constant) {
      throw new Error(options.id + ': camera video Bitrate Type must be manually set to ' + videoOptions.bitrateControl + ' in the camera web admin.');
    }
  }
  return { id: options.id, video: configuredVideo };
}

// autoconfigure-codecs.ts autoconfigureCodecs, for the one to three
// streams a camera has.
async function autoconfigure(cam) {
  const audioOptions = { codec: 'pcm_mulaw', bitrate: 64000, sampleRate: 8000 };
  // getCodecs
  const profiles = await call(cam, 'getProfiles');
  const codecs = [];
  for (const p of profiles) {
    const uri = await call(cam, 'getStreamUri', { protocol: 'RTSP', profileToken: p.$.token });
    codecs.push({ id: p.$.token, url: uri.uri });
  }
  const configurable = [];
  for (const codec of codecs) configurable.push(await configureCodecs(cam, { id: codec.id }));
  const used = [];
  for (let i = 0; i < 3; i++) {
    let highest = [undefined, 0];
    for (const codec of configurable) {
      if (used.includes(codec)) continue;
      for (const r of codec.video.resolutions) {
        if (r[0] * r[1] > highest[1]) highest = [codec, r[0] * r[1]];
      }
    }
    if (!highest[0]) break;
    used.push(highest[0]);
  }
  if (!used.length) throw new Error('no configurable stream');
  const l = used[0];
  const resolution = l.video.resolutions[0];
  const fps = Math.min(20, Math.max(...l.video.fpsRange));
  const wanted = {
    id: l.id,
    video: {
      width: resolution[0], height: resolution[1], bitrateControl: 'variable', codec: 'h264',
      bitrate: getBitrateForResolution(resolution[0] * resolution[1]), fps, keyframeInterval: fps * 4, quality: 5, profile: 'main',
    },
    audio: audioOptions,
  };
  const errors = [];
  try {
    await configureCodecs(cam, wanted);
  } catch (e) {
    errors.push(String(e && e.message ? e.message : e));
  }
  return { codecs, configurable, wanted, errors };
}

function encoder(vc) {
  return {
    token: vc.$.token,
    encoding: vc.encoding,
    quality: vc.quality,
    frameRateLimit: vc.rateControl && vc.rateControl.frameRateLimit,
    bitrateLimit: vc.rateControl && vc.rateControl.bitrateLimit,
    govLength: vc.H264 && vc.H264.govLength,
    profile: vc.H264 && vc.H264.H264Profile,
  };
}

(async () => {
  const cam = new Cam({ hostname: host, port: Number(port), username, password, timeout: 10000, autoconnect: false });
  await call(cam, 'connect');
  const result = await autoconfigure(cam);
  const readBack = {};
  readBack.GetProfiles = (await call(cam, 'getProfiles')).filter((p) => p.videoEncoderConfiguration).map((p) => encoder(p.videoEncoderConfiguration));
  readBack.GetVideoEncoderConfigurations = [].concat(await call(cam, 'getVideoEncoderConfigurations')).map(encoder);
  readBack.GetVideoEncoderConfiguration = [];
  for (const c of readBack.GetVideoEncoderConfigurations) {
    readBack.GetVideoEncoderConfiguration.push(encoder(await call(cam, 'getVideoEncoderConfiguration', c.token)));
  }
  const audio = await call(cam, 'getAudioEncoderConfigurations');
  readBack.audio = [].concat(audio).map((a) => ({ token: a.$.token, encoding: a.encoding, bitrate: a.bitrate, sampleRate: a.sampleRate }));
  process.stdout.write(JSON.stringify({ ...result, sent, readBack }) + '\n');
})().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
