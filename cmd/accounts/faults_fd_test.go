//go:build faults

package main

// Test 29 with the process's open-file limit lowered (prlimit), hence the faults tag: a
// flood of connections that exhausts the descriptors, and one that the default bounds
// hold off. Either way the service answers /healthz again within 2 s of the flood's end,
// without a restart.

import (
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/internal/servicetest"
)

const (
	fdLimit    = 256
	floodConns = 400
)

// underFDLimit starts `accounts serve` with RLIMIT_NOFILE lowered to fdLimit.
func underFDLimit(t *testing.T, dbURL string, env ...string) *servicetest.Service {
	t.Helper()
	prlimit, err := exec.LookPath("prlimit")
	require.NoError(t, err, "prlimit (util-linux) is needed to lower the service's open-file limit")
	svc := servicetest.LaunchUnder(t, []string{prlimit, "--nofile=256:256", "--"}, []string{"serve"}, dbURL, env...)
	svc.WaitReady(t, 30*time.Second)
	return svc
}

// flood opens n TCP connections to svc from the loopback address ip and leaves them idle.
func flood(t *testing.T, svc *servicetest.Service, ip string, n int) []net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := d.Dial("tcp", strings.TrimPrefix(svc.URL, "http://"))
		require.NoError(t, err)
		conns = append(conns, c)
	}
	t.Cleanup(func() { closeAll(conns) })
	return conns
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// probeFrom is a client of one loopback address with a new connection per request, as
// liveness probes are.
func probeFrom(ip string, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: timeout}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

func healthy(c *http.Client, svc *servicetest.Service) bool {
	res, err := c.Get(svc.URL + "/healthz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// answersAgainWithin2s closes the flood and measures how long /healthz takes to answer.
func answersAgainWithin2s(t *testing.T, svc *servicetest.Service, conns []net.Conn) {
	t.Helper()
	closeAll(conns)
	ended := time.Now()
	probe := probeFrom("127.0.0.1", 300*time.Millisecond)
	for !healthy(probe, svc) {
		require.Less(t, time.Since(ended), 2*time.Second, "/healthz does not answer within 2 s of the flood's end\n%s", svc.Logs.String())
		select {
		case err := <-svc.Done:
			t.Fatalf("the service exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Logf("/healthz answered %s after the flood ended", time.Since(ended).Round(time.Millisecond))
}

func TestRel29_DescriptorExhaustion(t *testing.T) {
	dbURL := servicetest.NewDatabaseURL(t)
	runBinary(t, dbURL, "", 0, "migrate")
	alice := servicetest.SignIn(t, dbURL, "alice-29-fd")[0]
	signedIn := func(t *testing.T, svc *servicetest.Service, ip string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, svc.URL+"/api/accounts", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", alice.Bearer())
		res, err := probeFrom(ip, 5*time.Second).Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	}

	// With the bounds off, 400 idle connections take every descriptor the process has:
	// accept fails with EMFILE, and the server must outlive it.
	t.Run("without bounds the server outlives running out", func(t *testing.T) {
		svc := underFDLimit(t, dbURL, "HTTP_MAX_CONNS=0", "HTTP_MAX_CONNS_PER_IP=0")
		conns := flood(t, svc, "127.0.0.2", floodConns)
		require.Eventually(t, func() bool {
			return strings.Contains(svc.Logs.String(), "too many open files")
		}, 10*time.Second, 20*time.Millisecond, "the flood exhausts the descriptors")
		require.Contains(t, svc.Logs.String(), "accepting connections failed; retrying")

		answersAgainWithin2s(t, svc, conns)
		signedIn(t, svc, "127.0.0.4")
		require.NotContains(t, svc.Logs.String(), "http server stopped serving")
		require.Equal(t, 0, svc.Stop(t))
	})

	// With the default bounds (derived from the lowered limit), two clients flooding get a
	// share of the connections each and no more; the descriptors never run out, and the
	// probes and a signed-in user from elsewhere are served throughout.
	t.Run("the default bounds hold a flood off", func(t *testing.T) {
		svc := underFDLimit(t, dbURL)
		conns := append(flood(t, svc, "127.0.0.2", floodConns/2), flood(t, svc, "127.0.0.3", floodConns/2)...)
		require.Eventually(t, func() bool {
			return strings.Contains(svc.Logs.String(), "connection refused: too many open connections from one client")
		}, 5*time.Second, 20*time.Millisecond)

		for range 5 {
			require.True(t, healthy(probeFrom("127.0.0.1", time.Second), svc), "the probe is answered during the flood")
			signedIn(t, svc, "127.0.0.4")
		}
		answersAgainWithin2s(t, svc, conns)
		require.NotContains(t, svc.Logs.String(), "accepting connections failed", "the descriptors never ran out")
		require.Equal(t, 0, svc.Stop(t))
	})
}
