package alpaca

import (
	"context"
	"sync"
	"time"

	"github.com/brokerly/accounts/ports"
)

// flights lets identical concurrent calls share one request to Alpaca, so a page that asks
// for the same account data five times spends one request of the user's Alpaca budget.
//
// Unlike a plain singleflight, each caller waits only as long as its own context allows,
// and the shared request is canceled once no caller is waiting for it any more: a burst of
// abandoned requests does not keep talking to Alpaca on nobody's behalf.
type flights struct {
	mu      sync.Mutex
	pending map[string]*flight
}

type flight struct {
	done    chan struct{} // closed when acct and err are set
	acct    ports.BrokerAccount
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do runs call once for every caller with the same key while it is in flight. The shared
// call gets its own context, bounded by timeout and carrying the first caller's values.
func (g *flights) do(ctx context.Context, key string, timeout time.Duration,
	call func(context.Context) (ports.BrokerAccount, error),
) (ports.BrokerAccount, error) {
	g.mu.Lock()
	f, ok := g.pending[key]
	if !ok {
		if g.pending == nil {
			g.pending = map[string]*flight{}
		}
		shared, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		g.pending[key] = f
		go func() {
			f.acct, f.err = call(shared)
			cancel()
			g.forget(key, f)
			close(f.done)
		}()
	}
	f.waiters++
	g.mu.Unlock()

	select {
	case <-f.done:
		return f.acct, f.err
	case <-ctx.Done():
		g.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			f.cancel()
			g.forgetLocked(key, f) // a new caller starts afresh rather than join a dying call
		}
		g.mu.Unlock()
		return ports.BrokerAccount{}, ctx.Err()
	}
}

func (g *flights) forget(key string, f *flight) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.forgetLocked(key, f)
}

func (g *flights) forgetLocked(key string, f *flight) {
	if g.pending[key] == f {
		delete(g.pending, key)
	}
}
