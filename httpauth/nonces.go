package httpauth

import (
	"fmt"
	"strconv"
	"sync"
	"time"
)

// DefaultNoncesPerUser is the default Authenticator.NoncesPerUser. A
// client uses one nonce at a time per connection (RTSP) or per client
// address (HTTP) until it expires or is refused as stale; a user of many
// clients keeps a few dozen in use.
const DefaultNoncesPerUser = 128

// ErrNonceReused means a digest response repeats a nonce count already
// used with its nonce (a replayed Authorization header), or uses a nonce
// that served before for a request that needs a fresh one (Request.Fresh).
// It wraps ErrStaleNonce: the client is answered stale=true and retries
// with a new nonce without asking the user.
var ErrNonceReused = fmt.Errorf("%w: nonce or nonce count used before", ErrStaleNonce)

// ncWindow is how far below the highest nonce count seen a count may come
// (requests sent in parallel with one nonce arrive out of order).
const ncWindow = 64

// nonceKey identifies a nonce: its issue time and random bytes.
type nonceKey [nonceTime + nonceRand]byte

// nonceUse is what was seen of one nonce.
type nonceUse struct {
	issued time.Time
	owner  *userUses
	// maxNC is the highest nonce count seen, seen its window: bit i set
	// when maxNC-i was seen. Zero for a nonce used without qop.
	maxNC uint64
	seen  uint64
}

// userUses are one user's tracked nonces, oldest first, and the issue
// time up to which an untracked nonce of the user counts as used.
type userUses struct {
	user  string
	keys  []nonceKey
	floor time.Time
}

// nonceTracker remembers, per nonce, the nonce counts used with it, so
// that no Authorization header is accepted twice, within a quota of
// nonces per user: a user over its quota forgets its own oldest nonce
// (which then counts as used: its client gets stale=true and a new one)
// and never another user's. Only verified responses are tracked.
type nonceTracker struct {
	mu    sync.Mutex
	uses  map[nonceKey]*nonceUse
	users map[string]*userUses
}

// use records that user sent nonce count nc ("" without qop) with the
// nonce key issued at issued, and reports ErrNonceReused when that was
// seen before or, with fresh, when the nonce was used at all before. The
// nonce is at most lifetime old (checked by the caller).
func (t *nonceTracker) use(key nonceKey, issued time.Time, user, nc string, fresh bool, perUser int, lifetime time.Duration, now time.Time) error {
	var count uint64
	if nc != "" {
		n, err := strconv.ParseUint(nc, 16, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("%w: nonce count %q", ErrMalformed, nc)
		}
		count = n
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.uses == nil {
		t.uses = map[nonceKey]*nonceUse{}
		t.users = map[string]*userUses{}
	}
	u := t.users[user]
	if u == nil {
		u = &userUses{user: user}
		t.users[user] = u
	}
	t.expire(u, now.Add(-lifetime-maxSkew))
	st := t.uses[key]
	if st == nil {
		if !issued.After(u.floor) {
			return ErrNonceReused // forgotten to make room: counts as used
		}
		if len(u.keys) >= perUser {
			oldest := t.uses[u.keys[0]]
			t.drop(u, 0)
			if oldest != nil && oldest.issued.After(u.floor) {
				u.floor = oldest.issued
			}
			if !issued.After(u.floor) {
				return ErrNonceReused
			}
		}
		st = &nonceUse{issued: issued, owner: u}
		t.uses[key] = st
		u.keys = append(u.keys, key)
	} else if fresh {
		return ErrNonceReused
	}
	if count == 0 {
		return nil // no qop: nothing to count (the client's address binds it)
	}
	switch {
	case count > st.maxNC:
		shift := count - st.maxNC
		if shift >= 64 {
			st.seen = 0
		} else {
			st.seen <<= shift
		}
		st.seen |= 1
		st.maxNC = count
	case st.maxNC-count >= ncWindow:
		return ErrNonceReused
	default:
		bit := uint64(1) << (st.maxNC - count)
		if st.seen&bit != 0 {
			return ErrNonceReused
		}
		st.seen |= bit
	}
	return nil
}

// expire drops the nonces issued before oldest (no longer accepted
// anyway), u's and every other user's, so that users who went away leave
// nothing behind. Users are few (those of one device).
func (t *nonceTracker) expire(u *userUses, oldest time.Time) {
	for len(u.keys) > 0 {
		st := t.uses[u.keys[0]]
		if st != nil && !st.issued.Before(oldest) {
			break
		}
		t.drop(u, 0)
	}
	if len(t.users) > 1 {
		for name, o := range t.users {
			for len(o.keys) > 0 {
				st := t.uses[o.keys[0]]
				if st != nil && !st.issued.Before(oldest) {
					break
				}
				t.drop(o, 0)
			}
			if len(o.keys) == 0 && !o.floor.After(oldest) && o != u {
				delete(t.users, name)
			}
		}
	}
}

// drop forgets u's i-th nonce.
func (t *nonceTracker) drop(u *userUses, i int) {
	delete(t.uses, u.keys[i])
	u.keys = append(u.keys[:i], u.keys[i+1:]...)
}

// tracked returns the number of nonces tracked (for tests and Stats).
func (t *nonceTracker) tracked() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.uses)
}
