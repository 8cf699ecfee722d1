package soap

import (
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// DefaultNoncesPerUser is the default NonceCache.PerUser: at the default
// MaxSkew of 5 minutes a token is remembered for at most 10 minutes, so a
// user may send about 13 requests a second for as long as it likes, far
// more than an NVR polling events; each remembered nonce costs about
// 100 bytes.
const DefaultNoncesPerUser = 8192

// ErrNonceQuota means a user has so many tokens remembered that no more
// can be until some expire: the user's requests are refused meanwhile,
// rather than forgetting a nonce that could then be replayed.
var ErrNonceQuota = errors.New("soap: too many UsernameTokens of this user in the time window")

// NonceCache remembers the nonces of the WS-Security tokens that verified,
// each until its Created time leaves the window in which the token would
// be accepted, so that no token is accepted twice by any Security that
// shares the cache: share one per process (the cameras' users may have the
// same names and passwords, and a token sniffed on one camera must not
// work on another). A nonce is remembered only once its token verified,
// so only users who know their password can use room, and each user has a
// quota (PerUser): a user at its quota gets ErrNonceQuota, and nobody's
// nonces are ever forgotten before they expire. The zero value is ready to
// use; set PerUser before first use. It is safe for concurrent use.
type NonceCache struct {
	// PerUser bounds the nonces remembered for one user of one Security.
	// It defaults to DefaultNoncesPerUser.
	PerUser int

	mu        sync.Mutex
	seen      map[[16]byte]nonceEntry // nonce hash -> entry, for every owner
	owners    map[nonceOwner]*ownerNonces
	adds      int       // adds since the last sweep of every owner
	lastSweep time.Time // time of that sweep
}

// nonceOwner is one user of one Security: users of different cameras are
// different accounts, whatever their names.
type nonceOwner struct {
	scope uint64
	user  string
}

type nonceEntry struct {
	expires time.Time
	owner   *ownerNonces
}

// ownerNonces are one owner's remembered nonces, in the order added.
type ownerNonces struct {
	key  nonceOwner
	keys [][16]byte
	// first is the earliest expiry among keys (zero when empty): no
	// sweep frees anything before it.
	first time.Time
}

// sharedNonces is the cache of every Security without a NonceCache of its
// own, so that by default all of a process's devices share one.
var sharedNonces NonceCache

// add remembers nonce for owner until expires and reports ErrReplay if it
// is remembered already (for any owner), ErrNonceQuota if owner has
// PerUser live nonces.
func (c *NonceCache) add(owner nonceOwner, nonce []byte, expires, now time.Time) error {
	key := sha256.Sum256(nonce)
	var k [16]byte
	copy(k[:], key[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[[16]byte]nonceEntry{}
		c.owners = map[nonceOwner]*ownerNonces{}
		if c.PerUser <= 0 {
			c.PerUser = DefaultNoncesPerUser
		}
	}
	if e, ok := c.seen[k]; ok {
		if now.Before(e.expires) {
			return ErrReplay
		}
		c.forget(k)
	}
	o := c.owners[owner]
	if o == nil {
		o = &ownerNonces{key: owner}
		c.owners[owner] = o
	}
	if len(o.keys) >= c.PerUser {
		if now.Before(o.first) {
			return ErrNonceQuota
		}
		c.sweepOwner(o, now)
		if len(o.keys) >= c.PerUser {
			return ErrNonceQuota
		}
	}
	c.seen[k] = nonceEntry{expires: expires, owner: o}
	o.keys = append(o.keys, k)
	if o.first.IsZero() || expires.Before(o.first) {
		o.first = expires
	}
	// Now and then, forget what expired for owners who went quiet.
	if c.adds++; c.adds >= c.PerUser || now.Sub(c.lastSweep) > time.Minute {
		c.adds, c.lastSweep = 0, now
		for _, o := range c.owners {
			c.sweepOwner(o, now)
		}
	}
	return nil
}

// forget drops the entry of k (expired) from the cache and its owner.
func (c *NonceCache) forget(k [16]byte) {
	e := c.seen[k]
	delete(c.seen, k)
	o := e.owner
	for i, x := range o.keys {
		if x == k {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// sweepOwner drops o's expired nonces, and o itself when none is left.
func (c *NonceCache) sweepOwner(o *ownerNonces, now time.Time) {
	if now.Before(o.first) {
		return // nothing expired yet
	}
	kept := o.keys[:0]
	o.first = time.Time{}
	for _, k := range o.keys {
		e, ok := c.seen[k]
		if ok && e.owner == o && now.Before(e.expires) {
			kept = append(kept, k)
			if o.first.IsZero() || e.expires.Before(o.first) {
				o.first = e.expires
			}
			continue
		}
		if ok && e.owner == o {
			delete(c.seen, k)
		}
	}
	clear(o.keys[len(kept):])
	o.keys = kept
	if len(o.keys) == 0 {
		delete(c.owners, o.key)
	}
}

// Len returns the number of nonces remembered.
func (c *NonceCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}
