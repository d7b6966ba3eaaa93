package main

// Test 38 under load: SIGTERM while keep-alive clients hammer the service with GETs and
// POSTs, ten times over, and no request that reached the service goes unanswered.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/keepalive"
	"github.com/brokerly/accounts/internal/servicetest"
)

// shutdownLoad is what keep-alive clients saw of one shutdown.
type shutdownLoad struct {
	mu        sync.Mutex
	answered  int      // 2xx answers
	lastOnOne int      // of which the connection's last (Connection: close)
	refused   int      // connections refused: the request never reached the service
	lost      []string // requests sent on an open connection that got no answer, or no 2xx
}

func (l *shutdownLoad) add(f func(*shutdownLoad)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

// hammer runs one keep-alive client until stop is closed, alternating a list (GET) with a
// get-or-create (POST) of its user.
func hammer(svc *servicetest.Service, user servicetest.Session, worker int, load *shutdownLoad, stop <-chan struct{}) {
	addr := strings.TrimPrefix(svc.URL, "http://")
	var k *keepalive.Conn
	defer func() {
		if k != nil {
			_ = k.Close()
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if k == nil {
			var err error
			if k, err = keepalive.Dial("", addr); err != nil {
				if !errors.Is(err, syscall.ECONNREFUSED) {
					load.add(func(l *shutdownLoad) { l.lost = append(l.lost, fmt.Sprintf("worker %d: dial: %v", worker, err)) })
				}
				load.add(func(l *shutdownLoad) { l.refused++ })
				time.Sleep(2 * time.Millisecond)
				continue
			}
		}
		var resp *http.Response
		var err error
		if i%2 == 0 {
			_, resp, err = k.Do(http.MethodGet, "/api/accounts", "", "Authorization", user.Bearer())
		} else {
			_, resp, err = k.Do(http.MethodPost, "/api/accounts/get-or-create", "", "Cookie", user.Cookie(), "Origin", servicetest.Origin)
		}
		switch {
		case err != nil:
			load.add(func(l *shutdownLoad) {
				l.lost = append(l.lost, fmt.Sprintf("worker %d request %d: %v", worker, i, err))
			})
		case resp.StatusCode != http.StatusOK:
			load.add(func(l *shutdownLoad) {
				l.lost = append(l.lost, fmt.Sprintf("worker %d request %d: status %d", worker, i, resp.StatusCode))
			})
		default:
			load.add(func(l *shutdownLoad) {
				l.answered++
				if resp.Close {
					l.lastOnOne++
				}
			})
		}
		if err != nil || resp.Close {
			_ = k.Close()
			k = nil
		}
	}
}

func TestRel38_NoRequestLostAcrossShutdownsUnderLoad(t *testing.T) {
	const shutdowns, workers = 10, 8
	dbURL := servicetest.NewDatabaseURL(t)
	runBinary(t, dbURL, "", 0, "migrate")
	ids := make([]string, workers)
	for i := range ids {
		ids[i] = fmt.Sprintf("user-38-%d", i)
	}
	users := servicetest.SignIn(t, dbURL, ids...)

	deadline := time.Now().Add(2 * time.Minute)
	for round := range shutdowns {
		require.True(t, time.Now().Before(deadline), "the rounds take too long")
		svc := servicetest.StartArgs(t, []string{"serve"}, dbURL)
		load := &shutdownLoad{}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { hammer(svc, users[w], w, load, stop) })
		}
		time.Sleep(300 * time.Millisecond)
		code := svc.Stop(t)
		close(stop)
		wg.Wait()

		require.Equal(t, 0, code, "round %d: a graceful shutdown exits 0", round)
		require.Empty(t, load.lost, "round %d: requests that reached the service and got no answer", round)
		require.Positive(t, load.answered, "round %d", round)
		require.Positive(t, load.lastOnOne, "round %d: requests in flight at the shutdown were answered with Connection: close", round)
		t.Logf("round %d: %d answered (%d ending their connection), %d connections refused after the listener closed",
			round, load.answered, load.lastOnOne, load.refused)
	}
}
