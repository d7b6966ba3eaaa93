package alpaca_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/alpaca"
	"github.com/brokerly/accounts/adapters/alpaca/alpacatest"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

const (
	testKey    = "PKTESTKEY0000000000001"
	testSecret = "sEcReT-do-not-leak-0123456789abcdefABCDEF"
)

// fullAccount is an account object as Alpaca sends it, with amounts a float would change.
const fullAccount = `{
  "id": "904837e3-3b76-47ec-b432-046db621571b",
  "account_number": "PA2N2VR0VK5U",
  "status": "ACTIVE",
  "crypto_status": "ACTIVE",
  "currency": "USD",
  "buying_power": "207641.120000000000000001",
  "regt_buying_power": "207641.12",
  "daytrading_buying_power": "0",
  "cash": "-0.000001",
  "portfolio_value": "103820.56",
  "pattern_day_trader": true,
  "trading_blocked": true,
  "transfers_blocked": false,
  "account_blocked": true,
  "created_at": "2025-03-14T09:26:53.589793Z",
  "trade_suspended_by_user": false,
  "multiplier": "2",
  "shorting_enabled": true,
  "equity": "103820.56",
  "last_equity": "103000.00",
  "long_market_value": "0",
  "short_market_value": "0",
  "initial_margin": "0",
  "maintenance_margin": "0",
  "last_maintenance_margin": "0",
  "sma": "0",
  "daytrade_count": 3
}`

func plain(t *testing.T, field, s string) credential.Plaintext {
	t.Helper()
	p, err := credential.ParsePlaintext(field, s)
	require.NoError(t, err)
	return p
}

func keys(t *testing.T) (credential.Plaintext, credential.Plaintext) {
	return plain(t, "api_key", testKey), plain(t, "secret_key", testSecret)
}

func newClient(t *testing.T, paper, live string, timeout time.Duration) *alpaca.Client {
	t.Helper()
	c, err := alpaca.New(alpaca.Config{PaperURL: paper, LiveURL: live, Timeout: timeout}, nil)
	require.NoError(t, err)
	return c
}

// fake serves one fixed answer and counts calls.
func fake(t *testing.T, status int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// hanging answers only after d, or never if the client leaves first.
func hanging(t *testing.T, d time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			_, _ = w.Write([]byte(fullAccount))
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func requireNoSecrets(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)} {
		require.NotContains(t, s, testKey)
		require.NotContains(t, s, testSecret)
	}
}

func TestAccountSendsKeysToAccountEndpoint(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		_, _ = w.Write([]byte(fullAccount))
	}))
	t.Cleanup(srv.Close)
	key, secret := keys(t)

	_, err := newClient(t, srv.URL, srv.URL, time.Second).Account(t.Context(), credential.Paper, key, secret)

	require.NoError(t, err)
	require.Equal(t, http.MethodGet, got.Method)
	require.Equal(t, "/v2/account", got.URL.Path)
	require.Empty(t, got.URL.RawQuery)
	require.Equal(t, testKey, got.Header.Get("APCA-API-KEY-ID"))
	require.Equal(t, testSecret, got.Header.Get("APCA-API-SECRET-KEY"))
	require.Equal(t, "application/json", got.Header.Get("Accept"))
	require.Empty(t, got.Header.Get("Authorization"))
}

func TestAccountUsesBaseURLOfEnvironment(t *testing.T) {
	paper, paperCalls := fake(t, http.StatusOK, fullAccount)
	live, liveCalls := fake(t, http.StatusOK, fullAccount)
	c := newClient(t, paper.URL, live.URL, time.Second)
	key, secret := keys(t)

	_, err := c.Account(t.Context(), credential.Paper, key, secret)
	require.NoError(t, err)
	require.EqualValues(t, 1, paperCalls.Load())
	require.EqualValues(t, 0, liveCalls.Load())

	_, err = c.Account(t.Context(), credential.Live, key, secret)
	require.NoError(t, err)
	require.EqualValues(t, 1, paperCalls.Load())
	require.EqualValues(t, 1, liveCalls.Load())
}

func TestAccountKeepsBasePathPrefix(t *testing.T) {
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		_, _ = w.Write([]byte(fullAccount))
	}))
	t.Cleanup(srv.Close)
	key, secret := keys(t)

	_, err := newClient(t, srv.URL+"/alpaca/", srv.URL, time.Second).Account(t.Context(), credential.Paper, key, secret)

	require.NoError(t, err)
	require.Equal(t, "/alpaca/v2/account", path)
}

func TestAccountMapsFieldsExactly(t *testing.T) {
	srv, _ := fake(t, http.StatusOK, fullAccount)
	key, secret := keys(t)

	got, err := newClient(t, srv.URL, srv.URL, time.Second).Account(t.Context(), credential.Live, key, secret)

	require.NoError(t, err)
	require.Equal(t, ports.BrokerAccount{
		Status:           "ACTIVE",
		Currency:         "USD",
		Cash:             "-0.000001",
		Equity:           "103820.56",
		BuyingPower:      "207641.120000000000000001",
		TradingBlocked:   true,
		AccountBlocked:   true,
		PatternDayTrader: true,
		DaytradeCount:    3,
	}, got)
}

func TestAccountKeepsLiteralOfNumericMoney(t *testing.T) {
	srv, _ := fake(t, http.StatusOK, `{"status":"ACTIVE","currency":"USD",
		"cash":100.10,"equity":-0.000001,"buying_power":1e3,"daytrade_count":"2"}`)
	key, secret := keys(t)

	got, err := newClient(t, srv.URL, srv.URL, time.Second).Account(t.Context(), credential.Paper, key, secret)

	require.NoError(t, err)
	require.Equal(t, "100.10", got.Cash)
	require.Equal(t, "-0.000001", got.Equity)
	require.Equal(t, "1e3", got.BuyingPower)
	require.Equal(t, 2, got.DaytradeCount)
	require.False(t, got.TradingBlocked)
}

func TestAccountRejectedOn401And403(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			// The body echoes the secret, as a proxy might: it must not reach the error.
			srv, _ := fake(t, status, `{"code":40110000,"message":"request is not authorized `+testSecret+`"}`)
			key, secret := keys(t)

			_, err := newClient(t, srv.URL, srv.URL, time.Second).Account(t.Context(), credential.Paper, key, secret)

			require.ErrorIs(t, err, ports.ErrBrokerRejected)
			require.NotErrorIs(t, err, ports.ErrBrokerFailed)
			require.Contains(t, err.Error(), fmt.Sprint(status))
			require.NotContains(t, err.Error(), "not authorized")
			requireNoSecrets(t, err)
		})
	}
}

func TestAccountFailsOnOtherStatuses(t *testing.T) {
	for _, status := range []int{
		http.StatusInternalServerError, http.StatusNotFound,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusNoContent, http.StatusBadRequest,
	} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv, _ := fake(t, status, `{"message":"boom `+testKey+` `+testSecret+`"}`)
			key, secret := keys(t)

			_, err := newClient(t, srv.URL, srv.URL, time.Second).Account(t.Context(), credential.Paper, key, secret)

			require.ErrorIs(t, err, ports.ErrBrokerFailed)
			require.NotErrorIs(t, err, ports.ErrBrokerRejected)
			require.Contains(t, err.Error(), fmt.Sprint(status))
			require.NotContains(t, err.Error(), "boom")
			requireNoSecrets(t, err)
		})
	}
}

func TestAccountTimesOut(t *testing.T) {
	srv := hanging(t, 10*time.Second)
	key, secret := keys(t)
	timeout := 200 * time.Millisecond

	start := time.Now()
	_, err := newClient(t, srv.URL, srv.URL, timeout).Account(t.Context(), credential.Paper, key, secret)
	elapsed := time.Since(start)

	require.ErrorIs(t, err, ports.ErrBrokerFailed)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "no answer within 200ms")
	require.Less(t, elapsed, timeout+2*time.Second, "the timeout must bound the call")
	requireNoSecrets(t, err)
}

// A caller-supplied client without its own timeout is still bounded by Config.Timeout.
func TestAccountTimesOutWithCallerClient(t *testing.T) {
	srv := hanging(t, 10*time.Second)
	key, secret := keys(t)
	c, err := alpaca.New(alpaca.Config{PaperURL: srv.URL, LiveURL: srv.URL, Timeout: 200 * time.Millisecond}, &http.Client{})
	require.NoError(t, err)

	start := time.Now()
	_, err = c.Account(t.Context(), credential.Paper, key, secret)

	require.ErrorIs(t, err, ports.ErrBrokerFailed)
	require.Less(t, time.Since(start), 2200*time.Millisecond)
}

func TestAccountHonoursCallerDeadline(t *testing.T) {
	srv := hanging(t, 10*time.Second)
	key, secret := keys(t)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := newClient(t, srv.URL, srv.URL, 5*time.Second).Account(ctx, credential.Paper, key, secret)

	require.ErrorIs(t, err, ports.ErrBrokerFailed)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
}

func TestAccountCanceledContext(t *testing.T) {
	key, secret := keys(t)

	t.Run("before the call", func(t *testing.T) {
		srv, calls := fake(t, http.StatusOK, fullAccount)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		_, err := newClient(t, srv.URL, srv.URL, time.Second).Account(ctx, credential.Paper, key, secret)

		require.ErrorIs(t, err, ports.ErrBrokerFailed)
		require.ErrorIs(t, err, context.Canceled)
		require.EqualValues(t, 0, calls.Load())
		requireNoSecrets(t, err)
	})
	t.Run("during the call", func(t *testing.T) {
		srv := hanging(t, 10*time.Second)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(50*time.Millisecond, cancel)

		_, err := newClient(t, srv.URL, srv.URL, 5*time.Second).Account(ctx, credential.Paper, key, secret)

		require.ErrorIs(t, err, ports.ErrBrokerFailed)
		require.ErrorIs(t, err, context.Canceled)
		require.Contains(t, err.Error(), "canceled")
	})
}

func TestAccountFailsOnMalformedBody(t *testing.T) {
	const marker = "SENSITIVE-BODY"
	cases := map[string]string{
		"not json":             marker + ` ` + testSecret,
		"truncated":            `{"status":"ACTIVE","cash":"` + marker,
		"empty":                ``,
		"array":                `[{"status":"ACTIVE"}]`,
		"null":                 `null`,
		"trailing data":        fullAccount + `{"x":"` + marker + `"}`,
		"missing equity":       `{"status":"ACTIVE","currency":"USD","cash":"1","buying_power":"1"}`,
		"null cash":            `{"status":"ACTIVE","currency":"USD","cash":null,"equity":"1","buying_power":"1"}`,
		"missing status":       `{"currency":"USD","cash":"1","equity":"1","buying_power":"1"}`,
		"missing currency":     `{"status":"ACTIVE","cash":"1","equity":"1","buying_power":"1"}`,
		"comma decimal":        `{"status":"ACTIVE","currency":"USD","cash":"12,50","equity":"1","buying_power":"1"}`,
		"word as money":        `{"status":"ACTIVE","currency":"USD","cash":"` + marker + `","equity":"1","buying_power":"1"}`,
		"bool as money":        `{"status":"ACTIVE","currency":"USD","cash":true,"equity":"1","buying_power":"1"}`,
		"empty money":          `{"status":"ACTIVE","currency":"USD","cash":"","equity":"1","buying_power":"1"}`,
		"dangling dot":         `{"status":"ACTIVE","currency":"USD","cash":"1.","equity":"1","buying_power":"1"}`,
		"fractional count":     `{"status":"ACTIVE","currency":"USD","cash":"1","equity":"1","buying_power":"1","daytrade_count":1.5}`,
		"negative count":       `{"status":"ACTIVE","currency":"USD","cash":"1","equity":"1","buying_power":"1","daytrade_count":-1}`,
		"status of wrong type": `{"status":7,"currency":"USD","cash":"1","equity":"1","buying_power":"1"}`,
		"bool of wrong type":   `{"status":"ACTIVE","currency":"USD","cash":"1","equity":"1","buying_power":"1","trading_blocked":"` + marker + `"}`,
		"oversized": `{"status":"ACTIVE","currency":"USD","cash":"1","equity":"1","buying_power":"1","pad":"` +
			strings.Repeat("x", alpaca.MaxBodyBytes) + `"}`,
	}
	key, secret := keys(t)
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			srv, _ := fake(t, http.StatusOK, body)

			_, err := newClient(t, srv.URL, srv.URL, 5*time.Second).Account(t.Context(), credential.Paper, key, secret)

			require.ErrorIs(t, err, ports.ErrBrokerFailed)
			require.NotErrorIs(t, err, ports.ErrBrokerRejected)
			require.NotContains(t, err.Error(), marker)
			require.NotContains(t, err.Error(), "xxxx")
			requireNoSecrets(t, err)
		})
	}
}

func TestAccountDoesNotFollowRedirects(t *testing.T) {
	for name, hc := range map[string]*http.Client{"own client": nil, "caller client": {}} {
		t.Run(name, func(t *testing.T) {
			target, targetCalls := fake(t, http.StatusOK, fullAccount)
			origin := httptest.NewServer(http.RedirectHandler(target.URL+"/v2/account", http.StatusTemporaryRedirect))
			t.Cleanup(origin.Close)
			c, err := alpaca.New(alpaca.Config{PaperURL: origin.URL, LiveURL: origin.URL, Timeout: time.Second}, hc)
			require.NoError(t, err)
			key, secret := keys(t)

			_, err = c.Account(t.Context(), credential.Paper, key, secret)

			require.ErrorIs(t, err, ports.ErrBrokerFailed)
			require.Contains(t, err.Error(), "307")
			require.EqualValues(t, 0, targetCalls.Load(), "the keys must not be sent to the redirect target")
			requireNoSecrets(t, err)
		})
	}
}

// A caller's client must not make the adapter keep cookies across users.
func TestAccountIgnoresCallerCookieJar(t *testing.T) {
	var sawCookie atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Cookies()) > 0 {
			sawCookie.Store(true)
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "user-a"})
		_, _ = w.Write([]byte(fullAccount))
	}))
	t.Cleanup(srv.Close)
	jar := &recordingJar{}
	c, err := alpaca.New(alpaca.Config{PaperURL: srv.URL, LiveURL: srv.URL, Timeout: time.Second}, &http.Client{Jar: jar})
	require.NoError(t, err)
	key, secret := keys(t)

	for range 2 {
		_, err = c.Account(t.Context(), credential.Paper, key, secret)
		require.NoError(t, err)
	}
	require.False(t, sawCookie.Load())
	require.Zero(t, jar.sets.Load())
}

type recordingJar struct{ sets atomic.Int32 }

func (j *recordingJar) SetCookies(*url.URL, []*http.Cookie) { j.sets.Add(1) }
func (j *recordingJar) Cookies(*url.URL) []*http.Cookie {
	return []*http.Cookie{{Name: "session", Value: "other-user"}}
}

func TestAccountFailsWhenBrokerUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // the port is now refused
	key, secret := keys(t)

	_, err := newClient(t, srv.URL, srv.URL, time.Second).Account(t.Context(), credential.Paper, key, secret)

	require.ErrorIs(t, err, ports.ErrBrokerFailed)
	require.Contains(t, err.Error(), "network error")
	require.NotContains(t, err.Error(), "/v2/account")
	requireNoSecrets(t, err)
}

func TestAccountRefusesUnknownEnvironmentAndEmptyKeys(t *testing.T) {
	srv, calls := fake(t, http.StatusOK, fullAccount)
	c := newClient(t, srv.URL, srv.URL, time.Second)
	key, secret := keys(t)

	_, err := c.Account(t.Context(), credential.Environment{}, key, secret)
	require.ErrorIs(t, err, ports.ErrBrokerFailed)

	_, err = c.Account(t.Context(), credential.Paper, credential.Plaintext{}, secret)
	require.ErrorIs(t, err, ports.ErrBrokerFailed)

	_, err = c.Account(t.Context(), credential.Paper, key, credential.Plaintext{})
	require.ErrorIs(t, err, ports.ErrBrokerFailed)
	requireNoSecrets(t, err)

	require.EqualValues(t, 0, calls.Load())
}

// Every failure path, in one place, for the property that matters most: no key, no secret.
func TestAccountErrorsNeverContainKeyOrSecret(t *testing.T) {
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, `{"key":%q,"secret":%q}`, r.Header.Get("APCA-API-KEY-ID"), r.Header.Get("APCA-API-SECRET-KEY"))
		}
	}
	servers := map[string]http.Handler{
		"401":      echo(http.StatusUnauthorized),
		"403":      echo(http.StatusForbidden),
		"500":      echo(http.StatusInternalServerError),
		"200 echo": echo(http.StatusOK), // valid JSON, but no account fields
		"not json": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(r.Header.Get("APCA-API-SECRET-KEY")))
		}),
		"redirect": http.RedirectHandler("http://127.0.0.1:1/?s="+testSecret, http.StatusFound),
		"slow":     http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }),
		"hijacked": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := http.NewResponseController(w).Hijack()
			_ = conn.Close()
		}),
		"bad money": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprintf(w, `{"status":"ACTIVE","currency":"USD","cash":%q}`, testSecret)
		}),
	}
	key, secret := keys(t)
	for name, h := range servers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)

			_, err := newClient(t, srv.URL, srv.URL, 200*time.Millisecond).Account(t.Context(), credential.Paper, key, secret)

			requireNoSecrets(t, err)
		})
	}
}

func TestAccountAgainstAlpacatest(t *testing.T) {
	fakeAlpaca := alpacatest.NewServer(t, map[string]string{testKey: testSecret, "PKOTHER": "other-secret"})
	c := newClient(t, fakeAlpaca.URL(), fakeAlpaca.URL(), 200*time.Millisecond)
	key, secret := keys(t)

	got, err := c.Account(t.Context(), credential.Paper, key, secret)
	require.NoError(t, err)
	want := fakeAlpaca.Account(testKey)
	require.Equal(t, ports.BrokerAccount{
		Status: want.Status, Currency: want.Currency, Cash: want.Cash, Equity: want.Equity,
		BuyingPower: want.BuyingPower, TradingBlocked: want.TradingBlocked, AccountBlocked: want.AccountBlocked,
		PatternDayTrader: want.PatternDayTrader, DaytradeCount: want.DaytradeCount,
	}, got)

	_, err = c.Account(t.Context(), credential.Paper, key, plain(t, "secret_key", "wrong"))
	require.ErrorIs(t, err, ports.ErrBrokerRejected)
	_, err = c.Account(t.Context(), credential.Paper, plain(t, "api_key", "PKUNKNOWN"), secret)
	require.ErrorIs(t, err, ports.ErrBrokerRejected)

	fakeAlpaca.FailWith(http.StatusServiceUnavailable)
	_, err = c.Account(t.Context(), credential.Paper, key, secret)
	require.ErrorIs(t, err, ports.ErrBrokerFailed)
	fakeAlpaca.FailWith(0)

	fakeAlpaca.Hang(5 * time.Second)
	_, err = c.Account(t.Context(), credential.Paper, key, secret)
	require.ErrorIs(t, err, ports.ErrBrokerFailed)
	fakeAlpaca.Hang(0)

	_, err = c.Account(t.Context(), credential.Live, key, secret)
	require.NoError(t, err)
	require.Equal(t, 6, fakeAlpaca.Calls())
}

func TestNewAcceptsDefaultsAndValidURLs(t *testing.T) {
	_, err := alpaca.New(alpaca.Config{}, nil)
	require.NoError(t, err)
	require.Equal(t, "https://paper-api.alpaca.markets", alpaca.DefaultPaperURL)
	require.Equal(t, "https://api.alpaca.markets", alpaca.DefaultLiveURL)
	require.Equal(t, 10*time.Second, alpaca.DefaultTimeout)

	for _, u := range []string{"http://127.0.0.1:8080", "https://paper-api.alpaca.markets/", "https://example.com/prefix", "http://[::1]:9000"} {
		_, err := alpaca.New(alpaca.Config{PaperURL: u, LiveURL: u}, nil)
		require.NoError(t, err, u)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := map[string]alpaca.Config{
		"relative paper":   {PaperURL: "/v2"},
		"no scheme":        {PaperURL: "paper-api.alpaca.markets"},
		"ftp scheme":       {LiveURL: "ftp://api.alpaca.markets"},
		"no host":          {LiveURL: "https://"},
		"userinfo":         {PaperURL: "https://user:hunter2@paper-api.alpaca.markets"},
		"query":            {LiveURL: "https://api.alpaca.markets?token=hunter2"},
		"empty query":      {LiveURL: "https://api.alpaca.markets/?"},
		"fragment":         {PaperURL: "https://paper-api.alpaca.markets#hunter2"},
		"opaque":           {PaperURL: "https:hunter2"},
		"unparsable":       {PaperURL: "http://[::1]:namedport/hunter2"},
		"control bytes":    {PaperURL: "https://api.alpaca.markets/\x00hunter2"},
		"negative timeout": {Timeout: -time.Second},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := alpaca.New(cfg, nil)

			require.Error(t, err)
			require.Nil(t, c)
			require.NotContains(t, err.Error(), "hunter2", "a URL may carry a secret; errors must not echo it")
		})
	}
}

func TestErrorKindsAreDistinct(t *testing.T) {
	require.False(t, errors.Is(ports.ErrBrokerRejected, ports.ErrBrokerFailed))
}
