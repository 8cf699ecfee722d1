package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/chinesium/chinesium/audio"
	"github.com/chinesium/chinesium/camsession"
)

func runStream(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "stream", "[flags] IP", `
Writes the camera's video as raw MJPEG (concatenated JPEG frames) to stdout
or to a file; logs go to stderr. Play it live with

  chinesium stream 10.10.1.30 | ffplay -probesize 32 -f mjpeg -

The session reconnects by itself when the camera drops out or reboots.`)
	out := fs.String("o", "-", "write the MJPEG stream to this `file` (- = stdout)")
	frames := fs.Int("frames", 0, "stop after this many frames (0 = run until interrupted)")
	timeout := fs.Duration("timeout", 15*time.Second, "give up if no frame arrives this long after start (0 = wait forever)")
	audioOut := fs.String("audio", "", "also ask for audio and write it to this WAV `file` (8 kHz mono 16-bit PCM)")
	local := addLocalFlags(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	ip, err := cameraArg("stream", pos)
	if err != nil {
		return err
	}
	if (*out == "-" || *out == "") && e.stdoutTerminal {
		return usagef("not writing video to a terminal: pipe it into a player (chinesium stream %v | ffplay -probesize 32 -f mjpeg -) or save it with -o file.mjpeg", ip)
	}
	if *frames < 0 || *timeout < 0 {
		return usagef("-frames and -timeout must not be negative")
	}
	cfg := camsession.Config{Camera: ip, Audio: *audioOut != ""}
	p, log, err := openPuller(e, fs, local, cfg)
	if err != nil {
		return err
	}
	w, closeOut, err := openOutput(e, *out)
	if err != nil {
		p.stop()
		return err
	}
	var wav *wavWriter
	if *audioOut != "" {
		if wav, err = newWAVWriter(*audioOut); err != nil {
			closeOut()
			p.stop()
			return err
		}
	}
	p.start(ctx)
	n, err := pump(ctx, p, w, wav, *frames, *timeout)
	if serr := p.stop(); err == nil {
		err = serr
	}
	if cerr := closeOut(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", *out, cerr)
	}
	if wav != nil {
		if werr := wav.close(); err == nil {
			err = werr
		}
	}
	log.Info("stream ended", "frames", n, "dropped_slow_output", p.dropped.Load())
	return err
}

// pump writes frames (and audio) until ctx is done, limit frames were
// written, or the reader of the output went away.
func pump(ctx context.Context, p *puller, w io.Writer, wav *wavWriter, limit int, timeout time.Duration) (int, error) {
	var first <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		first = t.C
	}
	n := 0
	for {
		select {
		case <-ctx.Done():
			return n, nil
		case <-first:
			if n == 0 {
				return 0, p.noPicture(timeout)
			}
		case err := <-p.done:
			p.done <- err // for stop
			return n, err
		case f := <-p.frames:
			if _, err := w.Write(f.JPEG); err != nil {
				if errors.Is(err, syscall.EPIPE) {
					return n, nil // the player quit
				}
				return n, fmt.Errorf("write video: %w", err)
			}
			n++
			if limit > 0 && n >= limit {
				return n, nil
			}
		case a := <-p.audio:
			if err := wav.write(a); err != nil {
				return n, err
			}
		}
	}
}

// openOutput opens the output file, or stdout for "-".
func openOutput(e *env, name string) (io.Writer, func() error, error) {
	if name == "-" || name == "" {
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot write the output: %w", err)
	}
	return f, f.Close, nil
}

// wavWriter decodes the camera's IMA ADPCM packets into a WAV file.
type wavWriter struct {
	f    *os.File
	dec  audio.Decoder
	buf  []byte
	size uint32
}

func newWAVWriter(name string) (*wavWriter, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, fmt.Errorf("cannot write the audio file: %w", err)
	}
	w := &wavWriter{f: f}
	if _, err := f.Write(audio.AppendWAVHeader(nil, 8000, 1, audio.StreamSize)); err != nil {
		f.Close()
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return w, nil
}

func (w *wavWriter) write(a *camsession.Audio) error {
	w.buf = w.dec.AppendPCM16LE(w.buf[:0], a.ADPCM)
	if _, err := w.f.Write(w.buf); err != nil {
		return fmt.Errorf("write audio: %w", err)
	}
	w.size += uint32(len(w.buf))
	return nil
}

// close fixes the header's sizes, so players know the length, and closes.
func (w *wavWriter) close() error {
	_, err := w.f.WriteAt(audio.AppendWAVHeader(nil, 8000, 1, w.size), 0)
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("finish audio file: %w", err)
	}
	return nil
}
