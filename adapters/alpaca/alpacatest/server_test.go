package alpacatest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/alpaca/alpacatest"
)

func get(t *testing.T, ctx context.Context, url, key, secret string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	req.Header.Set("APCA-API-KEY-ID", key)
	req.Header.Set("APCA-API-SECRET-KEY", secret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var body map[string]any
	require.NoError(t, json.Unmarshal(b, &body))
	return resp.StatusCode, body
}

func TestServerAnswersValidPairs(t *testing.T) {
	s := alpacatest.NewServer(t, map[string]string{"PKA": "secret-a", "PKB": "secret-b"})

	status, a := get(t, t.Context(), s.URL()+"/v2/account", "PKA", "secret-a")
	require.Equal(t, http.StatusOK, status)
	want := s.Account("PKA")
	require.Equal(t, want.AccountNumber, a["account_number"])
	require.Equal(t, "ACTIVE", a["status"])
	require.Equal(t, "USD", a["currency"])
	require.Equal(t, want.Cash, a["cash"])
	require.IsType(t, "", a["equity"], "money is a JSON string, as Alpaca sends it")
	require.IsType(t, float64(0), a["daytrade_count"], "daytrade_count is a JSON number")
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a["id"])

	_, b := get(t, t.Context(), s.URL()+"/v2/account", "PKB", "secret-b")
	require.NotEqual(t, a["account_number"], b["account_number"])
	require.NotEqual(t, a["id"], b["id"])
	require.Equal(t, s.Account("PKA"), alpacatest.DefaultAccount("PKA"), "stable per key")
}

func TestServerRejectsOtherPairs(t *testing.T) {
	s := alpacatest.NewServer(t, map[string]string{"PKA": "secret-a"})
	for name, pair := range map[string][2]string{
		"wrong secret": {"PKA", "secret-b"},
		"unknown key":  {"PKZ", "secret-a"},
		"no headers":   {"", ""},
	} {
		t.Run(name, func(t *testing.T) {
			status, body := get(t, t.Context(), s.URL()+"/v2/account", pair[0], pair[1])

			require.Equal(t, http.StatusUnauthorized, status)
			require.Equal(t, map[string]any{"code": float64(40110000), "message": "request is not authorized"}, body)
		})
	}
}

func TestServerUnknownPathIs404(t *testing.T) {
	s := alpacatest.NewServer(t, map[string]string{"PKA": "secret-a"})

	status, _ := get(t, t.Context(), s.URL()+"/v2/orders", "PKA", "secret-a")

	require.Equal(t, http.StatusNotFound, status)
}

func TestServerFailHangAndCount(t *testing.T) {
	s := alpacatest.NewServer(t, map[string]string{"PKA": "secret-a"})
	url := s.URL() + "/v2/account"

	s.FailWith(http.StatusTooManyRequests)
	status, body := get(t, t.Context(), url, "PKA", "secret-a")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "too many requests", body["message"])
	s.FailWith(0)

	s.Hang(10 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	s.Hang(0)

	status, _ = get(t, t.Context(), url, "PKA", "secret-a")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 3, s.Calls())
}

func TestServerSetKeyAndSetAccount(t *testing.T) {
	s := alpacatest.NewServer(t, nil)
	url := s.URL() + "/v2/account"

	s.SetKey("PKN", "first")
	s.SetKey("PKN", "rotated")
	status, _ := get(t, t.Context(), url, "PKN", "first")
	require.Equal(t, http.StatusUnauthorized, status)

	a := s.Account("PKN")
	a.Equity, a.TradingBlocked, a.DaytradeCount = "0.01", true, 4
	s.SetAccount("PKN", a)
	status, body := get(t, t.Context(), url, "PKN", "rotated")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "0.01", body["equity"])
	require.Equal(t, true, body["trading_blocked"])
	require.Equal(t, float64(4), body["daytrade_count"])
}

func TestServerIsSafeForConcurrentUse(t *testing.T) {
	s := alpacatest.NewServer(t, map[string]string{"PKA": "secret-a"})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			// No require here: FailNow must not run outside the test goroutine.
			if resp, err := http.Get(s.URL() + "/v2/account"); err == nil {
				_ = resp.Body.Close()
			}
		})
		wg.Go(func() { s.SetKey("PKB", "b"); _ = s.Calls() })
	}
	wg.Wait()
	require.Equal(t, 8, s.Calls())
}

func TestServerCloseRefusesConnections(t *testing.T) {
	s := alpacatest.NewServer(t, map[string]string{"PKA": "secret-a"})
	s.Close()
	s.Close()

	_, err := http.Get(s.URL() + "/v2/account")
	require.Error(t, err)
}

func TestServerFailsNextRequestsThenRecovers(t *testing.T) {
	s := alpacatest.NewServer(t, map[string]string{"PKA": "secret-a"})
	s.FailNext(http.StatusBadGateway, alpacatest.Drop)

	status, _ := get(t, t.Context(), s.URL()+"/v2/account", "PKA", "secret-a")
	require.Equal(t, http.StatusBadGateway, status)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+"/v2/account", nil)
	require.NoError(t, err)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // no transparent retry on a reused connection
	_, err = fresh.Do(req)
	require.Error(t, err, "Drop closes the connection without an answer")
	status, _ = get(t, t.Context(), s.URL()+"/v2/account", "PKA", "secret-a")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 3, s.Calls())
}

func TestServerRateLimitsPerKeyWithAlpacasHeaders(t *testing.T) {
	s := alpacatest.NewServer(t, map[string]string{"PKA": "secret-a", "PKB": "secret-b"})
	s.RateLimit(2)
	call := func(key, secret string) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL()+"/v2/account", nil)
		require.NoError(t, err)
		req.Header.Set("APCA-API-KEY-ID", key)
		req.Header.Set("APCA-API-SECRET-KEY", secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp
	}

	first := call("PKA", "secret-a")
	require.Equal(t, http.StatusOK, first.StatusCode)
	require.Equal(t, "2", first.Header.Get("X-Ratelimit-Limit"))
	require.Equal(t, "1", first.Header.Get("X-Ratelimit-Remaining"))
	reset, err := strconv.ParseInt(first.Header.Get("X-Ratelimit-Reset"), 10, 64)
	require.NoError(t, err)
	require.InDelta(t, time.Now().Add(time.Minute).Unix(), reset, 2)

	require.Equal(t, http.StatusOK, call("PKA", "secret-a").StatusCode)
	over := call("PKA", "secret-a")
	require.Equal(t, http.StatusTooManyRequests, over.StatusCode)
	require.Equal(t, "0", over.Header.Get("X-Ratelimit-Remaining"))
	require.Equal(t, first.Header.Get("X-Ratelimit-Reset"), over.Header.Get("X-Ratelimit-Reset"))
	require.Equal(t, http.StatusOK, call("PKB", "secret-b").StatusCode, "each key has its own window")

	s.RateLimit(0)
	open := call("PKA", "secret-a")
	require.Equal(t, http.StatusOK, open.StatusCode)
	require.Empty(t, open.Header.Get("X-Ratelimit-Limit"))
}
