package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
)

// sessionChannel is where migration 006's trigger announces changed and deleted sessions.
const sessionChannel = "accounts_session_changed"

// SessionCache answers repeated session lookups from memory and forgets an entry as soon as
// the database says its session changed (LISTEN/NOTIFY). It never serves an entry unless
// the listening connection has proven, within RevocationBound, that every earlier change
// has reached it: so a signed-out or revoked session stops working within that bound, even
// when the listening connection silently dies. Without a live listener it is a pass-through.
type SessionCache struct {
	store      *SessionStore
	listenConf *pgx.ConnConfig
	log        *zap.Logger
	maxEntries int
	now        func() time.Time

	mu      sync.RWMutex
	entries map[[32]byte]cachedSession
	// changes counts invalidations; a lookup that raced one does not fill the cache, because
	// it may have read the row the invalidation was about.
	changes atomic.Uint64
	// trustedUntil (unix nanos) is when the last proof of a live, caught-up listener expires.
	trustedUntil atomic.Int64

	stop context.CancelFunc
	done chan struct{}
}

type cachedSession struct {
	userID    string
	expiresAt time.Time
}

// ListenerApplicationName marks the listening connection in pg_stat_activity.
const ListenerApplicationName = "accounts-session-listener"

// RevocationBound is the longest a deleted or expired session may still be accepted.
const RevocationBound = time.Second

// heartbeat is how often the listener proves its connection live; it must stay well under
// RevocationBound, which covers one heartbeat plus its round trip.
const heartbeat = 300 * time.Millisecond

// NewSessionCache wraps store. url is the database the listener connects to; maxEntries
// bounds memory (about 150 bytes an entry).
func NewSessionCache(store *SessionStore, url string, maxEntries int, log *zap.Logger) (*SessionCache, error) {
	conf, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, errors.New("postgres: session cache: database URL is not a valid connection string")
	}
	if conf.ConnectTimeout == 0 {
		conf.ConnectTimeout = defaultConnectTimeout
	}
	conf.RuntimeParams["application_name"] = ListenerApplicationName
	if log == nil {
		log = zap.NewNop()
	}
	return &SessionCache{
		store: store, listenConf: conf, log: log, maxEntries: maxEntries, now: time.Now,
		entries: make(map[[32]byte]cachedSession),
	}, nil
}

// LookupSession implements betterauth.SessionStore.
func (c *SessionCache) LookupSession(ctx context.Context, token string) (string, error) {
	key := sha256.Sum256([]byte(token))
	now := c.now()
	if c.trusted(now) {
		c.mu.RLock()
		e, ok := c.entries[key]
		c.mu.RUnlock()
		if ok && now.Before(e.expiresAt) {
			return e.userID, nil
		}
	}
	before := c.changes.Load()
	userID, expiresAt, err := c.store.lookup(ctx, token)
	if err != nil {
		return "", err
	}
	if c.trusted(c.now()) && c.changes.Load() == before {
		c.put(key, cachedSession{userID: userID, expiresAt: expiresAt})
	}
	return userID, nil
}

// Trusted reports whether entries may be served from memory right now.
func (c *SessionCache) Trusted() bool { return c.trusted(c.now()) }

func (c *SessionCache) trusted(now time.Time) bool {
	return now.UnixNano() < c.trustedUntil.Load()
}

func (c *SessionCache) put(key [32]byte, e cachedSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.maxEntries {
		// Evict one entry, whichever Go's randomised map iteration offers first: with more
		// live sessions than room, random replacement keeps the hit rate at size/sessions
		// instead of emptying the cache every time it fills.
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = e
}

// forget drops one entry (hexKey is the SHA-256 of a token) or, for "*", all of them.
func (c *SessionCache) forget(hexKey string) {
	c.changes.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	var key [32]byte
	if hexKey == "*" || hex.DecodedLen(len(hexKey)) != len(key) {
		clear(c.entries)
		return
	}
	if _, err := hex.Decode(key[:], []byte(hexKey)); err != nil {
		clear(c.entries)
		return
	}
	delete(c.entries, key)
}

// distrust stops serving from memory and empties it: notifications may have been missed.
func (c *SessionCache) distrust() {
	c.trustedUntil.Store(0)
	c.forget("*")
}

// Start runs the listener until Stop.
func (c *SessionCache) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	c.stop, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		c.listen(ctx)
	}()
}

// Stop ends the listener and waits for it.
func (c *SessionCache) Stop() {
	if c.stop != nil {
		c.stop()
		<-c.done
	}
}

// listen keeps one connection listening, reconnecting with backoff, until ctx ends.
func (c *SessionCache) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := c.listenOnce(ctx)
		c.distrust()
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("session cache listener lost; sessions are looked up in the database until it is back", zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce serves one connection: it applies notifications as they come and, every
// heartbeat, sends itself a probe on the channel and waits for it. Notifications arrive in
// commit order, so once the probe is back every change committed before it has been
// applied: entries are trusted until the probe was sent + bound. A connection on which
// notifications do not come back (behind a transaction-pooling PgBouncer, LISTEN stays on
// whichever server connection ran it) must not earn trust: the cache then stays a
// pass-through. Behind such a pooler the listener needs a direct URL.
func (c *SessionCache) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, c.listenConf)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+sessionChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var listener uint32
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&listener); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	c.forget("*") // whatever was cached before this connection listened is unproven
	for {
		started := c.now()
		probe := probePrefix + rand.Text()
		probeCtx, cancel := context.WithTimeout(ctx, RevocationBound/2)
		_, err := conn.Exec(probeCtx, "SELECT pg_notify($1, $2)", sessionChannel, probe)
		if err == nil {
			err = c.drainUntil(probeCtx, conn, probe, listener)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		c.trustedUntil.Store(started.Add(RevocationBound).UnixNano())
		if err := c.drain(ctx, conn, heartbeat); err != nil {
			return err
		}
	}
}

// probePrefix marks a listener's own heartbeat on the channel; every instance's probes
// reach every listener, and are not invalidations.
const probePrefix = "probe:"

// drainUntil applies notifications until probe arrives, or fails when ctx ends first. The
// probe must come from the listening backend itself: a probe sent from another one means
// the connection is pooled per transaction, where notifications go astray.
func (c *SessionCache) drainUntil(ctx context.Context, conn *pgx.Conn, probe string, listener uint32) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for the probe: %w", err)
		}
		if n.Payload == probe {
			if n.PID != listener {
				return errors.New("the probe came from another server session: a transaction pooler is in the way; point SESSION_CACHE_LISTEN_URL at PostgreSQL itself")
			}
			return nil
		}
		c.apply(n.Payload)
	}
}

// drain applies notifications until wait has passed.
func (c *SessionCache) drain(ctx context.Context, conn *pgx.Conn, wait time.Duration) error {
	deadline := c.now().Add(wait)
	for {
		waitCtx, cancel := context.WithDeadline(ctx, deadline)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			c.apply(n.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded) || waitCtx.Err() != nil:
			return nil
		default:
			return fmt.Errorf("wait for notification: %w", err)
		}
	}
}

// apply acts on one notification: another listener's probe is nothing, anything else an
// invalidation.
func (c *SessionCache) apply(payload string) {
	if strings.HasPrefix(payload, probePrefix) {
		return
	}
	c.forget(payload)
}
