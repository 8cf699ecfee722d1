// Runs the npm "onvif" package's WS-Discovery probe (agsh/onvif, as used by
// UniFi Protect, Homebridge and Node-RED) and prints what it found as JSON:
// [{urn, hostname, port, path, xaddrs}]. Usage: node discovery_probe.js [timeout-ms]
'use strict';
const onvif = require('onvif');

const timeout = parseInt(process.argv[2] || '3000', 10);
onvif.Discovery.on('error', () => {}); // foreign datagrams are reported per message; ignore
// The Cam objects do not keep the endpoint reference: take it from each answer.
const urns = new Map();
onvif.Discovery.on('device', (cam, rinfo, xml) => {
	const m = /<[^>]*:?Address>\s*([^<\s]+)\s*</.exec(xml);
	urns.set(cam, m ? m[1] : '');
});
onvif.Discovery.probe({ timeout: timeout }, (err, cams) => {
	if (err && !cams) {
		console.error(String(err));
		process.exit(1);
	}
	const out = (cams || []).map((c) => ({
		urn: urns.get(c) || '',
		hostname: c.hostname,
		port: Number(c.port),
		path: c.path,
		xaddrs: (c.xaddrs || []).map((u) => u.href),
	}));
	process.stdout.write(JSON.stringify(out) + '\n');
	process.exit(0);
});
