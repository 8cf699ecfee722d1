// Follows one bridge device's events as Scrypted's ONVIF plugin does: the
// npm "onvif" package's cam.on('event') pull point loop, read by the
// listener of koush/scrypted plugins/onvif/src/onvif-api.ts (listenEvents),
// which takes the one Data SimpleItem's Value and turns a MotionAlarm
// topic into MotionStart (true) or MotionStop (false), and an IsMotion of
// true on RuleEngine/CellMotionDetector/Motion into MotionBuggy. Prints
// one line per event it emits. Runs until killed.
//
// Usage: node scrypted_events.js HOST PORT USER PASSWORD
'use strict';

const { Cam } = require('onvif');

const [host, port, username, password] = process.argv.slice(2);

// onvif-api.ts stripNamespaces
function stripNamespaces(topic) {
  let parts = topic.split('/');
  for (let index = 0; index < parts.length; index++) {
    const stringNoNamespace = parts[index].split(':').pop();
    parts[index] = stringNoNamespace;
  }
  return parts.join('/');
}

const cam = new Cam({ hostname: host, port: Number(port), username, password, timeout: 10000, autoconnect: false });
cam.connect((err) => {
  if (err) {
    console.error('connect: ' + (err.message || String(err)));
    process.exit(1);
  }
  cam.on('eventsError', (e) => process.stdout.write('error ' + (e && e.message ? e.message : String(e)) + '\n'));
  cam.on('event', (event) => {
    if (!event.message.message.data?.simpleItem?.$) return;
    const dataValue = event.message.message.data.simpleItem.$.Value;
    const eventTopic = stripNamespaces(event.topic._);
    if (eventTopic.includes('MotionAlarm')) {
      process.stdout.write((dataValue ? 'MotionStart' : 'MotionStop') + '\n');
    } else if (eventTopic.includes('RuleEngine/CellMotionDetector/Motion')) {
      if (event.message.message.data.simpleItem.$.Name === 'IsMotion' && dataValue) process.stdout.write('MotionBuggy\n');
    }
  });
});
