// Package rtsp is the bridge's RTSP server (RFC 2326) for ONVIF Profile S
// clients, NVRs and players.
//
// Every camera registered with Server.Handle gets two URLs:
//
//	rtsp://host:port/<name>/jpeg   the camera's JPEGs as RTP/JPEG (RFC 2435)
//	rtsp://host:port/<name>/h264   H.264 (RFC 6184) encoded by an ffmpeg child
//
// each with a G.711 µ-law audio track (payload type 0) when the camera has
// audio. The server implements OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE,
// TEARDOWN, GET_PARAMETER and SET_PARAMETER with aggregate control; RTP over
// UDP unicast, RTP interleaved on the RTSP connection, and RTSP tunnelled in
// HTTP (QuickTime style) on the same port; RTCP sender reports; a session
// timeout that any request or RTCP report resets; and Digest/Basic
// authentication through httpauth, per source (Source.Auth) or server-wide
// (Server.Auth).
//
// How each video stream is served is set per stream with
// Server.SetVideoSettings and a VideoSettings: a frame-rate limit on both
// streams (frames dropped evenly by capture time), and the H.264 encoder's
// bitrate, constant or capped bitrate, GOP length and profile. A change
// restarts the encoder under the connected sessions. Validate and the
// Min/Max constants and H264Profiles say what can be honoured; the bridge
// applies what ONVIF clients set with SetVideoEncoderConfiguration.
//
// Video timing: RTP timestamps come from the frames' capture times,
// laid on the grid of the stream's frame rate (the camera's, measured from
// its frames, or the limit), so they grow by whole frame intervals and
// players never see two frames on one tick. The H.264 encoder is told the
// same rate, so the SPS declares it and the bitrate is spent over the
// frames really sent.
//
// Each frame is packetized once per track and the same packets go to every
// session; each session has a bounded queue and its own writer, so a client
// that stops reading loses frames without slowing anyone else. The H.264
// encoder runs only while someone plays the H.264 URL.
//
// Usage:
//
//	srv := &rtsp.Server{Auth: auth, Logger: logger}
//	srv.Handle("cam1", rtsp.Source{Video: hub, Audio: audioHub})
//	ln, _ := net.Listen("tcp", ":8554")
//	err := srv.Serve(ctx, ln)
package rtsp
