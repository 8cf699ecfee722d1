package rtsp

import (
	"context"
	"errors"
	"time"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/rtsp/rtpjpeg"
	"github.com/chinesium/chinesium/stream"
)

// waitClosed handles a hub that was closed: the producer idles until its
// readers leave instead of being restarted in a loop.
func waitClosed(ctx context.Context, err error) error {
	if errors.Is(err, stream.ErrClosed) {
		<-ctx.Done()
		return nil
	}
	if ctx.Err() != nil {
		return nil //nolint:nilerr // the last reader left: a clean stop, not a failure
	}
	return err
}

// jpegProducer packetizes the frames of hub once as RTP/JPEG (RFC 2435),
// at most settings' FrameRateLimit of them per second, timed by a
// videoClock. Frames that do not fit RFC 2435 are re-encoded; broken frames
// are skipped and counted.
func jpegProducer(hub *stream.Hub, settings *settingsBox) producer {
	var clock videoClock // the track's: it outlives each producer run
	return func(ctx context.Context, t *track) error {
		r := hub.NewReader()
		defer r.Close()
		clock.observeRecent(hub)
		var normalized, broken uint64
		var lastLog time.Time
		for {
			f, err := r.Next(ctx)
			if err != nil {
				return waitClosed(ctx, err)
			}
			at := f.Time
			if at.IsZero() {
				at = time.Now()
			}
			clock.observe(at, f.Index, f.Seq)
			limit := settings.load().FrameRateLimit
			if !clock.pace(at, limit) {
				continue
			}
			fr, renc, err := rtpjpeg.ParseOrNormalize(f.JPEG)
			if renc {
				normalized++
			}
			if err != nil {
				broken++
			}
			if (renc || err != nil) && time.Since(lastLog) > 10*time.Second {
				lastLog = time.Now()
				t.srv.log.Warn("camera JPEGs need work for RTP/JPEG",
					"reencoded", normalized, "unusable", broken, "last_err", err)
			}
			if err != nil {
				continue
			}
			ts, ok := clock.stamp(t, at, clock.gridRate(limit))
			if !ok {
				continue
			}
			size, n := fr.PayloadSize(maxPayload, packetRoom)
			u := t.startUnit(size, n)
			if u.buf, u.ends, err = fr.AppendPayloads(u.buf, u.ends, maxPayload, packetRoom); err != nil {
				u.release()
				continue
			}
			u.key = true
			t.finish(u, ts)
			t.dispatch(u)
		}
	}
}

// audioResync is how far the running audio timestamp may drift from the
// arrival clock before it is reset (a lost packet, a camera pause).
const audioResync = 250 * time.Millisecond

// pcmuProducer turns the camera's IMA ADPCM blocks into G.711 µ-law RTP
// packets (payload type 0, 8 kHz). Timestamps count samples, so the audio
// plays without gaps, and are pulled back to the arrival clock after a gap.
func pcmuProducer(hub *stream.AudioHub) producer {
	return func(ctx context.Context, t *track) error {
		r := hub.NewReaderAfterLatest()
		defer r.Close()
		var (
			dec    audio.Decoder
			pcm    []int16
			next   uint32
			nextAt time.Time
			have   bool
		)
		for {
			a, err := r.Next(ctx)
			if err != nil {
				return waitClosed(ctx, err)
			}
			pcm = dec.Decode(pcm[:0], a.ADPCM)
			if len(pcm) == 0 {
				continue
			}
			at := a.Time
			if at.IsZero() {
				at = time.Now()
			}
			dur := time.Duration(len(pcm)) * time.Second / 8000
			start := at.Add(-dur)
			if !have || start.Sub(nextAt).Abs() > audioResync {
				next = t.rtpTime(start)
				nextAt = start
				have = true
			}
			ts := next
			for len(pcm) > 0 {
				n := min(len(pcm), maxPayload)
				u := t.startUnit(packetRoom+n, 1)
				u.buf = u.buf[:packetRoom]
				u.buf = audio.AppendMuLaw(u.buf, pcm[:n])
				u.ends = append(u.ends, len(u.buf))
				u.key = true
				t.finish(u, ts)
				t.dispatch(u)
				ts += uint32(n)
				pcm = pcm[n:]
			}
			next = ts
			nextAt = nextAt.Add(dur)
		}
	}
}
