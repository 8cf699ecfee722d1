package stream

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/chinesium/chinesium/camsession"
	"github.com/chinesium/chinesium/internal/directwrite"
)

// Direct delivery.
//
// A stream viewer that is up to date does not wait in its own goroutine
// for the next frame: it parks, and the goroutine that publishes the frame
// (the camera session's) writes it to the viewer's socket itself, with one
// system call that does not wait. Waking one goroutine per viewer and
// frame costs more than the write (the runtime has to wake another
// thread, and on a virtual machine another CPU), and it was most of the
// time from a frame's last packet to its last viewer.
//
// When that write cannot take the whole frame (the client's socket is
// full) or fails, the viewer is unparked and finishes the frame in its
// own goroutine, with the write deadline, as every viewer does without
// direct delivery; once it is up to date again it parks again. So a slow
// client never blocks the publisher, and the bytes of a frame always leave
// in order, from one writer at a time: the publisher while the viewer is
// parked, the viewer's goroutine otherwise.
//
// Direct delivery needs the connection's file descriptor, which net/http
// does not give to handlers: the server must set ConnContext (see
// ConnContext). Without it, and off Unix, viewers wait for frames in
// their goroutines.

// connKey is the request context key of the connection (ConnContext).
type connKey struct{}

// ConnContext is an http.Server's ConnContext that lets the Camera's
// stream viewers on that server be written directly by the frame's
// publisher (see the package's direct delivery). Servers without it work
// the same, a little slower. Only plain HTTP/1 responses written by
// net/http itself are written directly (not TLS, HTTP/2 or a wrapped
// ResponseWriter).
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// directWriter is a viewer's connection, written by the publisher.
type directWriter = directwrite.Writer

// maxParked bounds the viewers of a camera that the publisher writes
// directly, and so the time it spends writing one frame while the
// camera's next packets wait in the socket buffer: about 15 µs a viewer
// for a 30 KB frame, 1 ms for 64. Further viewers are written by their
// goroutines.
const maxParked = 64

// newDirectWriter returns a directWriter for the connection of req, or
// nil when the server did not set ConnContext, the response is not
// net/http's own HTTP/1 writer on a plain connection (TLS, HTTP/2 or a
// wrapper that transforms the body would get raw bytes past it), or the
// connection has no file descriptor.
func newDirectWriter(w http.ResponseWriter, req *http.Request) *directWriter {
	c, _ := req.Context().Value(connKey{}).(net.Conn)
	if c == nil || req.ProtoMajor != 1 || req.TLS != nil || fmt.Sprintf("%T", w) != "*http.response" {
		return nil
	}
	return directwrite.New(c)
}

// handoff is what the publisher gives back to a viewer it unparks.
type handoff struct {
	rest []byte // the end of a frame the socket did not take
	err  error  // the write failed: the client is gone
}

// deliver is the Hub listener of a Camera with direct viewers: it writes
// frame seq to every parked viewer, and unparks those it cannot write to
// at once. f is nil when the hub closed.
func (c *Camera) deliver(seq uint64, f *camsession.Frame) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	var bytes, whole uint64 // counted once for the frame
	for v := range c.parked {
		if f == nil || v.r.next != seq {
			// Closed, or the viewer missed a frame: its goroutine
			// takes over and finds out.
			c.unpark(v, handoff{})
			continue
		}
		p := c.frameBytes(v, f)
		v.r.next = seq + 1
		n, err := v.direct.Try(p)
		bytes += uint64(n)
		switch {
		case err != nil:
			c.unpark(v, handoff{err: err})
		case n < len(p):
			c.framesHanded.Add(1)
			c.unpark(v, handoff{rest: p[n:]})
		default:
			v.sent++
			whole++
		}
	}
	c.bytesSent.Add(bytes)
	c.framesSent.Add(whole)
	c.framesDirect.Add(whole)
}

// unpark hands v back to its goroutine. Called with dmu held.
func (c *Camera) unpark(v *viewer, h handoff) {
	delete(c.parked, v)
	v.wake <- h
}

// park waits, parked, until the publisher hands v back, when v can be
// written directly and is up to date; it returns false at once otherwise.
// The viewer's goroutine must not touch v's writer or reader while
// parked: the publisher does.
func (c *Camera) park(ctx context.Context, v *viewer) (bool, error) {
	// Until the first write, the response header may not have left.
	if v.direct == nil || v.sent == 0 || v.r.Lag() > 0 || c.Video.isShut.Load() {
		return false, nil
	}
	c.listenOnce.Do(func() { c.Video.Listen(c.deliver) })
	if !v.clearDeadline() {
		v.direct = nil // it stays: this goroutine writes every frame
		return false, nil
	}
	c.dmu.Lock()
	// Looked at again under dmu, which the publisher holds from Publish
	// to the end of its writes: a frame published before this point is
	// seen here, one published after it is delivered. A viewer whose
	// request has ended (its connection failed) does not park: nothing
	// may be written past what it left unsent.
	if err := ctx.Err(); err != nil {
		c.dmu.Unlock()
		return false, fmt.Errorf("parking: %w", err)
	}
	if v.r.Lag() > 0 || c.Video.isShut.Load() || len(c.parked) >= maxParked {
		c.dmu.Unlock()
		return false, nil
	}
	if c.parked == nil {
		c.parked = map[*viewer]struct{}{}
	}
	c.parked[v] = struct{}{}
	c.dmu.Unlock()
	select {
	case h := <-v.wake:
		return true, c.finish(v, h)
	case <-ctx.Done():
		c.dmu.Lock()
		_, still := c.parked[v]
		delete(c.parked, v)
		c.dmu.Unlock()
		if !still {
			<-v.wake // unparked meanwhile: its handoff is there
		}
		return true, fmt.Errorf("parked: %w", ctx.Err())
	}
}

// clearDeadline removes the write deadline of a viewer about to park: the
// publisher's writes never wait, and an expired deadline would fail them.
// It reports whether the viewer has none.
func (v *viewer) clearDeadline() bool {
	if !v.rearm.IsZero() {
		if v.rc.SetWriteDeadline(time.Time{}) != nil {
			return false
		}
		v.rearm = time.Time{} // the next write sets one again
	}
	return true
}

// finish takes over a frame the publisher could not finish.
func (c *Camera) finish(v *viewer, h handoff) error {
	if h.err != nil {
		return h.err
	}
	if len(h.rest) == 0 {
		return nil
	}
	if err := v.write(h.rest); err != nil {
		return err
	}
	c.framesSent.Add(1)
	return nil
}
