package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chinesium/chinesium/camsession"
)

func runSnapshot(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "snapshot", "[flags] IP -o FILE", `
Connects to the camera, saves one whole JPEG picture (640x480) and exits.
Exits non-zero when the camera does not send a picture within -timeout.`)
	out := fs.String("o", "", "write the JPEG to this `file` (- = stdout); required")
	timeout := fs.Duration("timeout", 10*time.Second, "give up if no picture arrives within this time")
	local := addLocalFlags(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	ip, err := cameraArg("snapshot", pos)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("say where to save the picture with -o, e.g. chinesium snapshot %v -o cam.jpg", ip)
	}
	if *out == "-" && e.stdoutTerminal {
		return usagef("not writing a JPEG to a terminal: redirect it (> cam.jpg) or use -o cam.jpg")
	}
	if *timeout <= 0 {
		return usagef("-timeout must be positive")
	}
	cfg := camsession.Config{Camera: ip}
	p, log, err := openPuller(e, fs, local, cfg)
	if err != nil {
		return err
	}
	p.start(ctx)
	var frame *camsession.Frame
	t := time.NewTimer(*timeout)
	defer t.Stop()
	select {
	case frame = <-p.frames:
	case <-t.C:
	case <-ctx.Done():
	}
	p.stop()
	if frame == nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted before a picture arrived")
		}
		return p.noPicture(*timeout)
	}
	if err := writeFileAtomic(e, *out, frame.JPEG); err != nil {
		return err
	}
	log.Info("snapshot saved", "file", *out, "bytes", len(frame.JPEG))
	return nil
}

// writeFileAtomic writes b to name through a temporary file in the same
// directory, so an existing picture is replaced whole or not at all; "-"
// writes to stdout.
func writeFileAtomic(e *env, name string, b []byte) error {
	if name == "-" {
		if _, err := e.stdout.Write(b); err != nil {
			return fmt.Errorf("write picture: %w", err)
		}
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("cannot save the picture: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("cannot save the picture: %w", err)
	}
	return nil
}
