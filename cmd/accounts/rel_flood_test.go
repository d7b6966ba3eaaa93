package main

// Test 29, connection floods: slow connections from two clients are held at
// HTTP_MAX_CONNS_PER_IP, while the probes and a signed-in user elsewhere are served.

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

func TestRel29_ConnectionFloodIsHeldOff(t *testing.T) {
	const perIP, perClient = 40, 300
	dbURL := servicetest.NewDatabaseURL(t)
	svc := servicetest.Start(t, dbURL, "HTTP_MAX_CONNS_PER_IP="+strconv.Itoa(perIP))
	alice := servicetest.SignIn(t, dbURL, "alice-29-flood")[0]
	addr := strings.TrimPrefix(svc.URL, "http://")

	// Each flood connection starts a request and never finishes its headers.
	var mu sync.Mutex
	var held, cut []net.Conn
	var wg sync.WaitGroup
	for _, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		for range perClient {
			c, err := d.Dial("tcp", addr)
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			_, _ = io.WriteString(c, "GET /api/accounts HTTP/1.1\r\nHost: x\r\nX-Slow: ")
			wg.Go(func() {
				_ = c.SetReadDeadline(time.Now().Add(time.Second))
				_, err := c.Read(make([]byte, 1))
				mu.Lock()
				defer mu.Unlock()
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					held = append(held, c) // still open: the server waits for the rest
				} else {
					cut = append(cut, c)
				}
			})
		}
	}

	probe := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 5 {
		res, err := probe.Get(svc.URL + "/healthz")
		require.NoError(t, err, "the probe is answered during the flood")
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		req, _ := http.NewRequest(http.MethodGet, svc.URL+"/api/accounts", nil)
		req.Header.Set("Authorization", alice.Bearer())
		res, err = loopbackClient(t, "127.0.0.4").Do(req)
		require.NoError(t, err, "a signed-in user is served during the flood")
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	}
	wg.Wait()
	require.Len(t, held, 2*perIP, "each client keeps exactly its share")
	require.Len(t, cut, 2*(perClient-perIP), "every connection past it is closed at once")
	require.Contains(t, svc.Logs.String(), "connection refused: too many open connections from one client")
	for _, c := range held {
		_ = c.Close() // else the shutdown waits for their read timeout
	}
	require.Equal(t, 0, svc.Stop(t))
}
