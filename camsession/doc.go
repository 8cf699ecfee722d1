// Package camsession speaks the IWFCam "xTEG" UDP protocol with one camera:
// the message codec, the handshake (port request, login, stream request),
// keep-alives, frame reassembly, audio delivery and automatic reconnection.
//
// The protocol is described in PROTOCOL.md of the project's shared notes;
// comments cite its sections.
package camsession
