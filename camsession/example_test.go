package camsession_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"

	"github.com/chinesium/chinesium/camsession"
)

// Write every frame of a camera to stdout as raw MJPEG until interrupted.
func ExampleSession() {
	s, err := camsession.New(camsession.Config{
		Camera: netip.MustParseAddr("10.10.1.30"),
		OnFrame: func(f *camsession.Frame) {
			os.Stdout.Write(f.JPEG) // f is immutable: it could be kept or shared
		},
		OnState: func(st camsession.State) { log.Println("camera", st) },
	})
	if err != nil {
		log.Fatal(err) // e.g. "local port 41773 busy: ..."
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := s.Run(ctx); err != nil {
		log.Fatal(err)
	}
	st := s.Stats()
	fmt.Fprintf(os.Stderr, "%d frames, %d dropped, %d reconnects\n", st.FramesComplete, st.FramesDropped, st.Reconnects)
}

// Ask the camera of a running session for its name and data port, giving
// up after three unanswered port requests.
func ExampleSession_Do() {
	s, err := camsession.New(camsession.Config{Camera: netip.MustParseAddr("10.10.1.30")})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx)

	cmd := camsession.PortRequest()
	cmd.Tries = 3
	r, err := s.Do(ctx, cmd)
	if errors.Is(err, camsession.ErrNoReply) {
		log.Fatal("the camera does not answer")
	}
	if err != nil {
		log.Fatal(err)
	}
	pr, err := camsession.ParsePortResponse(r.Message)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s answers from %v, data port %d\n", pr.Name, r.From, pr.DataPort)
}
