package httpadapter

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// connTable holds the server's open connections: it enforces the bounds on how many may be
// open at once, overall and per client, and knows which are idle, so that a shutdown closes
// a connection only between requests. Safe for concurrent use.
type connTable struct {
	maxConns     int // 0: no bound
	maxPerClient int // 0: no bound

	mu        sync.Mutex
	conns     map[*trackedConn]struct{}
	perClient map[netip.Addr]int
}

// refusal says why a connection was not admitted.
type refusal int

const (
	admitted refusal = iota
	tooManyConns
	tooManyFromClient
)

func newConnTable(maxConns, maxPerClient int) *connTable {
	return &connTable{maxConns: maxConns, maxPerClient: maxPerClient,
		conns: map[*trackedConn]struct{}{}, perClient: map[netip.Addr]int{}}
}

// trackedConn is an admitted connection. It leaves the table when it is closed, whoever
// closes it.
type trackedConn struct {
	net.Conn
	table  *connTable
	client netip.Addr
	// idleSince is when the connection began to wait for its next (or first) request, in
	// Unix nanoseconds; 0 while a request is being read or served, claimedForClose once a
	// shutdown has taken it.
	idleSince atomic.Int64
	release   sync.Once
}

const claimedForClose = -1

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.release.Do(func() { c.table.remove(c) })
	return err
}

// clientOf is the client a peer address counts against: the IP, and for IPv6 its /64,
// which one host usually controls whole (as the failed-authentication limit groups them).
// Peers that are not TCP share one key rather than escape the bound.
func clientOf(a net.Addr) netip.Addr {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	addr := ta.AddrPort().Addr().Unmap()
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return addr
}

// admit takes c into the table, or says which bound it would break; the caller closes a
// refused connection.
func (t *connTable) admit(c net.Conn, now time.Time) (*trackedConn, refusal) {
	client := clientOf(c.RemoteAddr())
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.maxConns > 0 && len(t.conns) >= t.maxConns:
		return nil, tooManyConns
	case t.maxPerClient > 0 && t.perClient[client] >= t.maxPerClient:
		return nil, tooManyFromClient
	}
	tc := &trackedConn{Conn: c, table: t, client: client}
	tc.idleSince.Store(now.UnixNano())
	t.conns[tc] = struct{}{}
	t.perClient[client]++
	return tc, admitted
}

func (t *connTable) remove(c *trackedConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
	if n := t.perClient[c.client]; n > 1 {
		t.perClient[c.client] = n - 1
	} else {
		delete(t.perClient, c.client)
	}
}

// open is the number of connections in the table.
func (t *connTable) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

// observe is fasthttp's ConnState hook: it keeps each connection's idle time.
func (t *connTable) observe(c net.Conn, state fasthttp.ConnState) {
	tc, ok := c.(*trackedConn)
	if !ok {
		return
	}
	switch state {
	case fasthttp.StateActive:
		tc.idleSince.Store(0)
	case fasthttp.StateIdle:
		tc.idleSince.CompareAndSwap(0, time.Now().UnixNano())
	}
}

// closeIdle closes every connection that has waited at least grace for a request, and
// returns how many are still open. A connection claimed here is never one a request has
// begun on: the claim and the start of a request race on idleSince, and only one wins.
func (t *connTable) closeIdle(now time.Time, grace time.Duration) int {
	t.mu.Lock()
	var idle []*trackedConn
	for c := range t.conns {
		since := c.idleSince.Load()
		if since > 0 && now.UnixNano()-since >= grace.Nanoseconds() && c.idleSince.CompareAndSwap(since, claimedForClose) {
			idle = append(idle, c)
		}
	}
	left := len(t.conns) - len(idle)
	t.mu.Unlock()
	for _, c := range idle {
		_ = c.Close()
	}
	return left
}

// closeAll closes every connection, busy or not: for a shutdown past its deadline.
func (t *connTable) closeAll() {
	t.mu.Lock()
	all := make([]*trackedConn, 0, len(t.conns))
	for c := range t.conns {
		all = append(all, c)
	}
	t.mu.Unlock()
	for _, c := range all {
		_ = c.Close()
	}
}
