// Follows one bridge device's events with the npm "onvif" package (agsh/onvif):
// it connects with credentials and listens to cam.on('event'), which creates a
// pull point and loops PullMessages/Renew like UniFi Protect, Homebridge and
// Node-RED do. Prints one JSON line per event: {topic, op, name, value}, and
// "error ..." lines for eventsError. Runs until killed.
//
// Usage: node events_client.js HOST PORT USER PASSWORD
'use strict';

const { Cam } = require('onvif');

const [host, port, username, password] = process.argv.slice(2);
if (!host || !port) {
  console.error('usage: node events_client.js HOST PORT USER PASSWORD');
  process.exit(2);
}

const cam = new Cam({ hostname: host, port: Number(port), username, password, timeout: 10000, autoconnect: false });
cam.connect((err) => {
  if (err) {
    console.error('connect: ' + (err.message || String(err)));
    process.exit(1);
  }
  cam.on('eventsError', (e) => process.stdout.write('error ' + (e && e.message ? e.message : String(e)) + '\n'));
  cam.on('event', (msg) => {
    const topic = msg.topic && (msg.topic._ || msg.topic);
    const m = msg.message && msg.message.message;
    const attrs = (m && m.$) || {};
    let items = m && m.data && m.data.simpleItem;
    if (items && !Array.isArray(items)) items = [items];
    const item = (items && items[0] && items[0].$) || {};
    process.stdout.write(JSON.stringify({
      topic: String(topic),
      op: attrs.PropertyOperation || '',
      name: item.Name || '',
      value: item.Value === true || item.Value === 'true',
    }) + '\n');
  });
});
