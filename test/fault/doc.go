// Package fault holds the fault, soak and hostile-input suite: the bridge
// run in-process against fake cameras behind a lossy UDP relay, clients
// that come and go, and clients that misbehave. It has no code of its own;
// everything is in its tests.
//
// The short form runs with "go test ./test/fault" (and in CI); the long
// form, with a 30 s camera outage and a 10-minute soak, with
//
//	go test ./test/fault -soak.long -timeout 30m
//
// Its tests use the loopback addresses 127.0.32.x to 127.0.34.x.
package fault
