// Package camsession speaks the IWFCam "xTEG" UDP protocol with one camera:
// the message codec, the handshake (port request, login, stream request),
// keep-alives, frame reassembly, audio delivery and automatic reconnection.
//
// A Session receives a camera's frames and audio over one UDP socket:
//
//	s, err := camsession.New(camsession.Config{
//		Camera:  netip.MustParseAddr("10.10.1.30"),
//		OnFrame: func(f *camsession.Frame) { ... }, // immutable, may be kept
//		OnState: func(st camsession.State) { ... }, // streaming, lost, ...
//	})
//	...
//	err = s.Run(ctx) // until ctx is done
//
// The session logs nothing: it reports events through the On hooks of its
// Config and counters through Stats, and the caller decides what the user
// sees. Every datagram to the camera goes through Session.Do, which sends a
// Command's messages several times and waits for its reply, matched by kind
// and by the camera port it must come from:
//
//	r, err := s.Do(ctx, camsession.PortRequest())
//	pr, err := camsession.ParsePortResponse(r.Message)
//
// The protocol is described in PROTOCOL.md of the project's shared notes;
// comments cite its sections.
package camsession
