package camsession

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Errors of Session.Do.
var (
	// ErrNoReply: the camera did not answer a command within its tries.
	ErrNoReply = errors.New("camsession: no reply from the camera")
	// ErrNoDataPort: a command for the data port before the camera
	// announced it (the session has not completed a handshake yet).
	ErrNoDataPort = errors.New("camsession: the camera has not announced its data port yet")
	// ErrClosed: Do after Run returned or Close was called.
	ErrClosed = errors.New("camsession: session closed")
)

// Port says which of the camera's ports a command goes to; its reply must
// come from the same port.
type Port int

// The camera's ports (PROTOCOL.md §1).
const (
	// PortData is the data port the camera announced in its port response:
	// login, control commands, and whatever the camera sends in the
	// session (media, control responses). It is the zero value.
	PortData Port = iota
	// PortControl is Config.ControlPort (10104): the port request.
	PortControl
)

func (p Port) String() string {
	switch p {
	case PortData:
		return "data port"
	case PortControl:
		return "control port"
	}
	return fmt.Sprintf("Port(%d)", int(p))
}

// A Command is something to tell the camera, run by Session.Do: one or more
// datagrams and, if the camera answers it, what the answer looks like.
// Build the datagrams with this package's Append functions. The Command
// constructors of this package (PortRequest) return ready ones.
type Command struct {
	// Name names the command in errors, e.g. "port request".
	Name string
	// Messages are the datagrams, sent in this order, each Config.Copies
	// times (copies 20 ms apart), to Port. They are not modified.
	Messages [][]byte
	// Port is the camera port the messages go to and the reply comes from.
	Port Port
	// ReplyKind is the kind of datagram that answers the command, from
	// Port. KindUnknown (the zero value) means no reply: Do returns once
	// the messages are sent.
	ReplyKind Kind
	// Match, if not nil, further selects the reply among the datagrams of
	// ReplyKind from Port, for example by command code. It gets the whole
	// datagram, valid only during the call, on the session's receive
	// goroutine: it must be quick and must not keep b.
	Match func(b []byte) bool
	// Timeout is how long each sending waits for the reply before the
	// command is sent again. It defaults to Config.PortTimeout.
	Timeout time.Duration
	// Backoff doubles the wait after every unanswered sending, up to
	// Config.MaxBackoff.
	Backoff bool
	// Tries is how many times the command is sent before Do gives up with
	// ErrNoReply; 0 means until Do's context is done.
	Tries int
	// OnNoReply, if not nil, is called on Do's goroutine after every
	// sending that went unanswered for waited; try counts the sendings
	// from 1.
	OnNoReply func(try int, waited time.Duration)
}

// Reply is the camera's answer to a Command.
type Reply struct {
	// Kind is the kind of the datagram (the Command's ReplyKind).
	Kind Kind
	// From is the camera's address and port it came from.
	From netip.AddrPort
	// Message is the whole datagram; it belongs to the caller.
	Message []byte
}

// PortRequest is the port request (1TEG 0x0b to the control port),
// answered by a port response (ParsePortResponse reads the Reply's
// Message) that names a data port. It is sent until answered, waiting
// twice as long after each unanswered try; set Tries to give up sooner.
func PortRequest() Command {
	return Command{
		Name:      "port request",
		Messages:  [][]byte{AppendPortRequest(nil)},
		Port:      PortControl,
		ReplyKind: KindPortResponse,
		Match: func(b []byte) bool {
			r, err := ParsePortResponse(b)
			return err == nil && r.DataPort != 0
		},
		Backoff: true,
	}
}

// loginCommand is the login followed by the stream requests for masks,
// sent every retry until media arrives (PROTOCOL.md §4: the login reply is
// optional, media is the answer that counts).
func loginCommand(l Login, masks []uint32, retry time.Duration) Command {
	c := keepAliveCommand(masks)
	c.Name = "login"
	c.Messages = slices.Insert(c.Messages, 0, AppendLogin(nil, l))
	c.ReplyKind = KindMedia
	c.Timeout = retry
	return c
}

// keepAliveCommand is the stream requests for masks, which double as the
// keep-alive; the camera's control response is optional and not awaited.
func keepAliveCommand(masks []uint32) Command {
	c := Command{Name: "stream request", Port: PortData}
	for _, m := range masks {
		c.Messages = append(c.Messages, AppendStreamRequest(nil, m))
	}
	return c
}

// waiter is a command waiting for its reply.
type waiter struct {
	port  Port
	kind  Kind
	match func([]byte) bool
	ch    chan Reply // buffered: gets at most one reply
	done  bool       // guarded by Session.waitMu: the reply was given
}

// Do runs cmd: it sends the command's messages, Config.Copies times each,
// and, if the command has a reply, waits for the first datagram of that
// kind from the command's port (and accepted by Match), sending the
// command again after each Timeout, up to Tries times. It returns the
// reply, or the zero Reply once a command without reply is sent.
//
// Do is the one way datagrams go to the camera; the session's own port
// requests, logins and keep-alives go through it too. Any goroutine may
// call it from New until Run returns (replies are received while Run
// runs); several commands may run at once, and one reply answers every
// command waiting for it.
//
// Errors: ErrNoReply after Tries unanswered sendings; ErrNoDataPort for a
// data-port command before the camera announced its data port; ErrClosed
// once the session is closed; ctx's error when ctx is done; a send
// error when a command without reply could not be sent at all (for a
// command with reply a failed send counts as unanswered; every failed send
// is reported to Config.OnSendError).
func (s *Session) Do(ctx context.Context, cmd Command) (Reply, error) {
	if len(cmd.Messages) == 0 || cmd.Port != PortData && cmd.Port != PortControl || cmd.Timeout < 0 || cmd.Tries < 0 {
		return Reply{}, fmt.Errorf("camsession: invalid command %q: it needs messages, a port, and no negative timeout or tries", cmd.Name)
	}
	select {
	case <-s.closed:
		return Reply{}, fmt.Errorf("camsession: %s: %w", cmd.Name, ErrClosed)
	default:
	}
	var w *waiter
	if cmd.ReplyKind != KindUnknown {
		w = &waiter{port: cmd.Port, kind: cmd.ReplyKind, match: cmd.Match, ch: make(chan Reply, 1)}
		s.addWaiter(w)
		defer s.removeWaiter(w)
	}
	wait := cmd.Timeout
	if wait == 0 {
		wait = s.cfg.PortTimeout
	}
	for try := 1; ; try++ {
		dst, err := s.dest(cmd.Port)
		if err != nil {
			return Reply{}, fmt.Errorf("camsession: %s: %w", cmd.Name, err)
		}
		sendErr, err := s.send(ctx, cmd.Messages, dst)
		if err != nil {
			return Reply{}, fmt.Errorf("camsession: %s: %w", cmd.Name, err)
		}
		if w == nil {
			if sendErr != nil {
				return Reply{}, fmt.Errorf("camsession: %s: %w", cmd.Name, sendErr)
			}
			return Reply{}, nil
		}
		t := time.NewTimer(wait)
		select {
		case r := <-w.ch:
			t.Stop()
			return r, nil
		case <-ctx.Done():
			t.Stop()
			return Reply{}, fmt.Errorf("camsession: %s: %w", cmd.Name, ctx.Err())
		case <-s.closed:
			t.Stop()
			return Reply{}, fmt.Errorf("camsession: %s: %w", cmd.Name, ErrClosed)
		case <-t.C:
		}
		if cmd.OnNoReply != nil {
			cmd.OnNoReply(try, wait)
		}
		if cmd.Tries > 0 && try >= cmd.Tries {
			return Reply{}, fmt.Errorf("camsession: %s: %w after %d tries", cmd.Name, ErrNoReply, try)
		}
		if cmd.Backoff {
			wait = min(2*wait, s.cfg.MaxBackoff)
		}
	}
}

// dest returns the camera's address and port for p.
func (s *Session) dest(p Port) (netip.AddrPort, error) {
	if p == PortControl {
		return netip.AddrPortFrom(s.camera, s.ctrlPort), nil
	}
	dp := s.dataPort.Load()
	if dp == 0 {
		return netip.AddrPort{}, ErrNoDataPort
	}
	return netip.AddrPortFrom(s.camera, uint16(dp)), nil
}

// send sends each message Copies times, copyGap apart, to dst. sendErr is
// the first failed send of a message none of whose copies went out (every
// failure goes to OnSendError); err is ctx's error or ErrClosed, which
// end the command.
func (s *Session) send(ctx context.Context, msgs [][]byte, dst netip.AddrPort) (sendErr, err error) {
	for _, m := range msgs {
		var sent bool
		var first error
		for i := range s.cfg.Copies {
			if i > 0 {
				if err := s.sleep(ctx, copyGap); err != nil {
					return nil, err
				}
			}
			_, werr := s.conn.WriteToUDPAddrPort(m, dst)
			switch {
			case werr == nil:
				sent = true
			case errors.Is(werr, net.ErrClosed):
				return nil, ErrClosed
			default:
				werr = fmt.Errorf("camsession: send to %v: %w", dst, werr)
				if s.cfg.OnSendError != nil {
					s.cfg.OnSendError(werr)
				}
				if first == nil {
					first = werr
				}
			}
		}
		if !sent && sendErr == nil {
			sendErr = first
		}
	}
	return sendErr, ctx.Err()
}

// sleep waits d, or returns ctx's error or ErrClosed.
func (s *Session) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return ErrClosed
	case <-t.C:
		return nil
	}
}

func (s *Session) addWaiter(w *waiter) {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	s.waiters = append(s.waiters, w)
	s.nWaiters.Store(int32(len(s.waiters)))
}

func (s *Session) removeWaiter(w *waiter) {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	if i := slices.Index(s.waiters, w); i >= 0 {
		s.waiters = slices.Delete(s.waiters, i, i+1)
	}
	s.nWaiters.Store(int32(len(s.waiters)))
}

// answer gives a datagram of kind k that came from port p (src) to every
// command waiting for it. It runs on the receive goroutine.
func (s *Session) answer(k Kind, p Port, b []byte, src netip.AddrPort) {
	if s.nWaiters.Load() == 0 {
		return
	}
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	for _, w := range s.waiters {
		if w.done || w.kind != k || w.port != p || w.match != nil && !w.match(b) {
			continue
		}
		w.done = true
		w.ch <- Reply{Kind: k, From: src, Message: bytes.Clone(b)}
	}
}
