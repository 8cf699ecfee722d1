package admin

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/rtsp"
)

// metric is one metric of the collector: its description and how to read
// it from a camera's readings (per-camera metrics) or from the bridge-wide
// components.
type metric struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
}

func newMetric(name, help string, kind prometheus.ValueType, labels ...string) metric {
	return metric{desc: prometheus.NewDesc("chinesium_"+name, help, labels, nil), kind: kind}
}

var (
	counter = prometheus.CounterValue
	gauge   = prometheus.GaugeValue
)

// Per-camera metrics; every one has the label camera (the camera's name).
var (
	mCameraUp         = newMetric("camera_up", "1 while the camera streams, 0 while it connects or is lost.", gauge, "camera")
	mPackets          = newMetric("camera_packets_total", "Datagrams received from the camera.", counter, "camera")
	mBadPackets       = newMetric("camera_bad_packets_total", "Malformed datagrams from the camera, dropped.", counter, "camera")
	mForeignPackets   = newMetric("camera_foreign_packets_total", "Datagrams from other addresses on the camera's socket, dropped.", counter, "camera")
	mFramesComplete   = newMetric("camera_frames_complete_total", "Frames received whole from the camera.", counter, "camera")
	mFramesDropped    = newMetric("camera_frames_dropped_total", "Frames lost on the way from the camera: missing packets, too large, not a JPEG.", counter, "camera")
	mDuplicates       = newMetric("camera_duplicate_packets_total", "Duplicate packets from the camera, ignored.", counter, "camera")
	mReorders         = newMetric("camera_reordered_packets_total", "Packets from the camera that arrived after a later one.", counter, "camera")
	mLate             = newMetric("camera_late_packets_total", "Packets of frames already finished, discarded.", counter, "camera")
	mReconnects       = newMetric("camera_reconnects_total", "Handshakes with the camera redone after the first.", counter, "camera")
	mAudioPackets     = newMetric("camera_audio_packets_total", "Audio packets received from the camera.", counter, "camera")
	mFPS              = newMetric("camera_fps", "Frames received from the camera in the last second.", gauge, "camera")
	mLastFrameAge     = newMetric("camera_last_frame_age_seconds", "Time since the camera's newest frame arrived (absent before the first frame).", gauge, "camera")
	mMotion           = newMetric("camera_motion", "1 while motion is seen (absent when motion detection is off).", gauge, "camera")
	mViewers          = newMetric("camera_viewers", "Clients watching now, by protocol (http, rtsp/udp, rtsp/tcp, rtsp/http) and stream (mjpeg, raw, wav, jpeg, h264).", gauge, "camera", "protocol", "stream")
	mSentBytes        = newMetric("camera_sent_bytes_total", "Bytes sent to the camera's viewers (HTTP bodies; RTP packets with their headers).", counter, "camera", "protocol")
	mSentFrames       = newMetric("camera_sent_frames_total", "Frames written to HTTP stream viewers.", counter, "camera", "protocol")
	mViewerDropped    = newMetric("camera_viewer_dropped_frames_total", "Frames (RTSP: frames and audio blocks) not sent to a viewer that could not keep up.", counter, "camera", "protocol")
	mSnapshots        = newMetric("camera_snapshots_total", "JPEG snapshots served.", counter, "camera")
	mAuthFailures     = newMetric("camera_auth_failures_total", "Requests refused although they carried credentials (wrong user or password, bad token), by protocol (onvif, http, rtsp).", counter, "camera", "protocol")
	mONVIFRequests    = newMetric("onvif_requests_total", "ONVIF requests answered, by operation (unknown: an element no service declares; invalid: not a readable SOAP message) and fault (none: answered).", counter, "camera", "operation", "fault")
	mONVIFBusy        = newMetric("onvif_busy_total", "ONVIF requests answered 503 at once because the camera's endpoint, or the client's address, had too many requests being read and parsed.", counter, "camera")
	mSubscriptions    = newMetric("onvif_event_subscriptions", "Live ONVIF event subscriptions, by kind (pull, push).", gauge, "camera", "kind")
	mNotifyLost       = newMetric("onvif_event_notifications_lost_total", "Push notification messages dropped after their last delivery attempt failed.", counter, "camera")
	mRecording        = newMetric("camera_recording", "1 while a recording segment is being written, 0 otherwise (absent when the camera is not recorded).", gauge, "camera")
	mRecordPaused     = newMetric("camera_recording_paused", "1 while recording is paused (low disk space, a write error).", gauge, "camera")
	mRecordedFrames   = newMetric("camera_recorded_frames_total", "Frames written into recordings.", counter, "camera")
	mRecordedBytes    = newMetric("camera_recorded_bytes_total", "Bytes written into recordings.", counter, "camera")
	mRecordDropped    = newMetric("camera_recording_dropped_total", "Frames and audio packets lost because the disk did not keep up.", counter, "camera")
	mAdminAuth        = newMetric("admin_auth_failures_total", "Requests to the admin server refused although they carried credentials.", counter)
	mRTSPConns        = newMetric("rtsp_connections", "TCP connections the RTSP server serves now (each half of an HTTP tunnel counts).", gauge)
	mRTSPSessions     = newMetric("rtsp_sessions", "RTSP sessions open now, playing or not.", gauge)
	mRTSPStarted      = newMetric("rtsp_sessions_started_total", "RTSP sessions set up.", counter)
	mDiscoveryRecv    = newMetric("discovery_received_total", "WS-Discovery datagrams received.", counter)
	mDiscoveryReqs    = newMetric("discovery_requests_total", "WS-Discovery requests by type (probe, resolve).", counter, "type")
	mDiscoveryAnswers = newMetric("discovery_answers_total", "WS-Discovery ProbeMatches and ResolveMatches sent.", counter)
	mDiscoveryDropped = newMetric("discovery_dropped_total", "WS-Discovery datagrams not answered, by reason (rate_limited, malformed, duplicate, ignored, oversize, off_link).", counter, "reason")
	mDiscoveryHellos  = newMetric("discovery_announcements_total", "WS-Discovery Hello and Bye datagrams sent.", counter)
	mDiscoveryErrors  = newMetric("discovery_send_errors_total", "WS-Discovery datagrams that could not be sent.", counter)
)

var allMetrics = []metric{
	mCameraUp, mPackets, mBadPackets, mForeignPackets, mFramesComplete, mFramesDropped,
	mDuplicates, mReorders, mLate, mReconnects, mAudioPackets, mFPS, mLastFrameAge, mMotion,
	mViewers, mSentBytes, mSentFrames, mViewerDropped, mSnapshots,
	mAuthFailures, mONVIFRequests, mONVIFBusy, mSubscriptions, mNotifyLost, mAdminAuth,
	mRecording, mRecordPaused, mRecordedFrames, mRecordedBytes, mRecordDropped,
	mRTSPConns, mRTSPSessions, mRTSPStarted,
	mDiscoveryRecv, mDiscoveryReqs, mDiscoveryAnswers, mDiscoveryDropped, mDiscoveryHellos, mDiscoveryErrors,
}

// collector is the Prometheus collector of the admin server: at every
// scrape it reads the Stats of the components, so the metrics are the
// components' own counters.
type collector struct{ s *Server }

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range allMetrics {
		ch <- m.desc
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	emit := func(m metric, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, v, labels...)
	}
	now := time.Now()
	for _, r := range c.s.read() {
		cam := r.cam.Name
		ss := r.session
		emit(mCameraUp, bool01(r.state == camsession.StateStreaming), cam)
		emit(mPackets, float64(ss.Packets), cam)
		emit(mBadPackets, float64(ss.BadPackets), cam)
		emit(mForeignPackets, float64(ss.Foreign), cam)
		emit(mFramesComplete, float64(ss.FramesComplete), cam)
		emit(mFramesDropped, float64(ss.FramesDropped), cam)
		emit(mDuplicates, float64(ss.Duplicates), cam)
		emit(mReorders, float64(ss.Reorders), cam)
		emit(mLate, float64(ss.Late), cam)
		emit(mReconnects, float64(ss.Reconnects), cam)
		emit(mAudioPackets, float64(ss.AudioPackets), cam)
		emit(mFPS, ss.FPS, cam)
		if !ss.LastFrame.IsZero() {
			emit(mLastFrameAge, max(now.Sub(ss.LastFrame), 0).Seconds(), cam)
		}
		if r.cam.Motion != nil {
			emit(mMotion, bool01(r.cam.Motion.Motion()), cam)
		}
		if r.cam.HTTP != nil {
			h := r.http
			emit(mViewers, float64(h.Multipart), cam, "http", "mjpeg")
			emit(mViewers, float64(h.Raw), cam, "http", "raw")
			emit(mViewers, float64(h.Audio), cam, "http", "wav")
			emit(mSentBytes, float64(h.BytesSent), cam, "http")
			emit(mSentFrames, float64(h.FramesSent), cam, "http")
			emit(mViewerDropped, float64(h.FramesDropped), cam, "http")
			emit(mSnapshots, float64(h.Snapshots), cam)
		}
		if r.cam.RTSPPath != "" && c.s.cfg.RTSP != nil {
			p := r.rtsp
			for _, v := range []struct {
				stream string
				v      rtsp.Viewers
			}{{"jpeg", p.JPEG}, {"h264", p.H264}} {
				emit(mViewers, float64(v.v.UDP), cam, "rtsp/udp", v.stream)
				emit(mViewers, float64(v.v.TCP), cam, "rtsp/tcp", v.stream)
				emit(mViewers, float64(v.v.HTTP), cam, "rtsp/http", v.stream)
			}
			emit(mSentBytes, float64(p.BytesSent), cam, "rtsp")
			emit(mViewerDropped, float64(p.UnitsDropped), cam, "rtsp")
		}
		if r.cam.ONVIF != nil {
			st := r.cam.ONVIF.Stats()
			for k, n := range st.Requests {
				emit(mONVIFRequests, float64(n), cam, k.Operation, k.Fault)
			}
			emit(mAuthFailures, float64(st.AuthFailures), cam, "onvif")
			emit(mONVIFBusy, float64(st.Busy), cam)
		}
		if r.cam.HTTPAuth != nil {
			emit(mAuthFailures, float64(r.cam.HTTPAuth.Stats().Failures), cam, "http")
		}
		if r.cam.RTSPAuth != nil {
			emit(mAuthFailures, float64(r.cam.RTSPAuth.Stats().Failures), cam, "rtsp")
		}
		if r.cam.Recorder != nil {
			st := r.cam.Recorder.Stats()
			emit(mRecording, bool01(st.Recording != ""), cam)
			emit(mRecordPaused, bool01(st.Paused != nil), cam)
			emit(mRecordedFrames, float64(st.Frames), cam)
			emit(mRecordedBytes, float64(st.Bytes), cam)
			emit(mRecordDropped, float64(st.Dropped), cam)
		}
		if r.cam.Events != nil {
			st := r.cam.Events.Stats()
			emit(mSubscriptions, float64(st.PullPoints), cam, "pull")
			emit(mSubscriptions, float64(st.PushSubscriptions), cam, "push")
			emit(mNotifyLost, float64(st.NotifyLost), cam)
		}
	}
	if a := c.s.cfg.Auth; a.Required() {
		emit(mAdminAuth, float64(a.Stats().Failures))
	}
	if c.s.cfg.RTSP != nil {
		st := c.s.cfg.RTSP.Stats()
		emit(mRTSPConns, float64(st.Conns))
		emit(mRTSPSessions, float64(st.Sessions))
		emit(mRTSPStarted, float64(st.SessionsStarted))
	}
	if c.s.cfg.Discovery != nil {
		d := c.s.cfg.Discovery.Stats()
		emit(mDiscoveryRecv, float64(d.Received))
		emit(mDiscoveryReqs, float64(d.Probes), "probe")
		emit(mDiscoveryReqs, float64(d.Resolves), "resolve")
		emit(mDiscoveryAnswers, float64(d.Answers))
		emit(mDiscoveryDropped, float64(d.RateLimited), "rate_limited")
		emit(mDiscoveryDropped, float64(d.Malformed), "malformed")
		emit(mDiscoveryDropped, float64(d.Duplicates), "duplicate")
		emit(mDiscoveryDropped, float64(d.Ignored), "ignored")
		emit(mDiscoveryDropped, float64(d.Oversize), "oversize")
		emit(mDiscoveryDropped, float64(d.OffLink), "off_link")
		emit(mDiscoveryHellos, float64(d.Announced))
		emit(mDiscoveryErrors, float64(d.SendErrors))
	}
}

// bool01 is a gauge's value for a condition.
func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
