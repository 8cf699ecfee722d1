package onvif

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/beevik/etree"

	"github.com/chinesium/chinesium/soap"
)

// The HTTP push client of the event engine: every push subscription has
// its own goroutine that posts wsnt:Notify messages to its consumer,
// retrying with back-off.

// actionNotify is the WS-Addressing action of a wsnt:Notify.
const actionNotify = "http://docs.oasis-open.org/wsn/bw-2/NotificationConsumer/Notify"

// consumerAllowed checks a push consumer URL against the request that
// asks for it: its host must be an IP address of the subscriber's host (the
// request's source address) or within EventsConfig.PushConsumers. A host
// name is refused: what it resolves to can change after the check.
func (e *Events) consumerAllowed(u *url.URL, r *http.Request) error {
	host := u.Hostname()
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrConsumer, host)
	}
	ip = ip.Unmap()
	for _, p := range e.cfg.PushConsumers {
		if p.Contains(ip) {
			return nil
		}
	}
	if r != nil {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && ap.Addr().Unmap() == ip {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is not the subscriber's own address", ErrConsumer, ip)
}

// pushLoop delivers a push subscription's messages to its consumer until the
// subscription ends.
func (e *Events) pushLoop(s *subscription) {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if s.gone {
			e.mu.Unlock()
			return
		}
		msgs := s.queue
		s.queue = nil
		wake, expires := s.wake, s.expires
		e.mu.Unlock()
		if len(msgs) > 0 {
			e.deliver(s, msgs)
			continue
		}
		wait := time.NewTimer(max(0, expires.Sub(e.cfg.Now())))
		select {
		case <-wake:
		case <-wait.C:
			e.mu.Lock()
			e.expireLocked()
			e.mu.Unlock()
		case <-e.ctx.Done():
			wait.Stop()
			return
		}
		wait.Stop()
	}
}

// deliver sends msgs to the push consumer, retrying a failed POST up to
// NotifyRetries times with a doubling back-off while the subscription is alive.
// It runs on the subscription's own pushLoop, so a slow or failing consumer
// delays no other subscription. Messages still undelivered at the end are dropped,
// counted and logged.
func (e *Events) deliver(s *subscription, msgs []eventMsg) {
	backoff := e.cfg.NotifyBackoff
	for try := 0; ; try++ {
		err := e.notify(s, msgs)
		if err == nil {
			return
		}
		if try == e.cfg.NotifyRetries || !e.waitAlive(s, backoff) {
			e.notifyLost.Add(uint64(len(msgs)))
			if e.ctx.Err() == nil {
				e.log.Error("notification lost", "id", s.id, "consumer", s.consumer,
					"messages", len(msgs), "tries", try+1, "lost_total", e.notifyLost.Load(), "err", err)
			}
			return
		}
		e.log.Warn("notify failed, retrying", "id", s.id, "consumer", s.consumer,
			"try", try+1, "in", backoff, "err", err)
		backoff *= 2
	}
}

// waitAlive waits d and reports whether s is still alive (neither removed,
// expired nor the service closed) afterwards. It returns false early when s ends.
func (e *Events) waitAlive(s *subscription, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		e.mu.Lock()
		if !s.gone && !e.cfg.Now().Before(s.expires) {
			e.expireLocked()
		}
		gone, wake := s.gone, s.wake
		e.mu.Unlock()
		if gone {
			return false
		}
		select {
		case <-timer.C:
			e.mu.Lock()
			gone = s.gone
			e.mu.Unlock()
			return !gone
		case <-e.ctx.Done():
			return false
		case <-wake: // new messages, a Renew or the end: look again
		}
	}
}

// notify POSTs one wsnt:Notify with msgs to the consumer and returns why it
// was not accepted (a network error or a non-2xx status).
func (e *Events) notify(s *subscription, msgs []eventMsg) error {
	n := etree.NewElement("wsnt:Notify")
	for _, m := range msgs {
		n.AddChild(notificationMessage(m, ""))
	}
	doc := soap.NewResponse(soap.V12, n)
	env := doc.Root()
	h := etree.NewElement(soap.EnvPrefix + ":Header")
	add(h, "wsa:Action", actionNotify)
	add(h, "wsa:To", s.consumer)
	env.InsertChildAt(0, h)
	body := soap.Marshal(doc)
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.Client.Timeout+time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.consumer, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("onvif: notify request: %w", err)
	}
	req.Header.Set("Content-Type", `application/soap+xml; charset=utf-8; action="`+actionNotify+`"`)
	resp, err := e.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("onvif: notify: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("onvif: notify rejected: %s", resp.Status)
	}
	return nil
}
