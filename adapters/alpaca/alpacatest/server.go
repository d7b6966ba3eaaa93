// Package alpacatest is a fake Alpaca trading API for tests of code that validates
// credentials or reads account data: it answers GET /v2/account for the key pairs it was
// given and 401 for any other, and can be told to fail, hang, drop connections or enforce
// Alpaca's per-key rate limit with its X-Ratelimit-* headers.
package alpacatest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Account is what the fake serves for one API key, in the fields the service maps.
// Money is a decimal string, as Alpaca sends it.
type Account struct {
	AccountNumber    string
	Status           string
	Currency         string
	Cash             string
	Equity           string
	BuyingPower      string
	TradingBlocked   bool
	AccountBlocked   bool
	PatternDayTrader bool
	DaytradeCount    int
}

// Server is a running fake. Its methods are safe to call while requests are in flight.
type Server struct {
	srv       *httptest.Server
	closeOnce sync.Once

	mu       sync.Mutex
	secrets  map[string]string // api key → valid secret
	accounts map[string]Account
	status   int
	hang     time.Duration
	calls    int
	failNext []int // statuses for the next requests, in order; Drop closes the connection

	limit   int                   // requests a minute per API key; 0 is no limit
	windows map[string]rateWindow // api key → its current window
}

// Drop, given to FailNext, closes the connection without an answer: a network failure.
const Drop = -1

type rateWindow struct {
	start time.Time
	used  int
}

// NewServer starts a fake whose valid pairs are keys (api key → secret). Each key gets a
// realistic account with its own account number. The server closes when the test ends.
func NewServer(t testing.TB, keys map[string]string) *Server {
	t.Helper()
	s := &Server{secrets: map[string]string{}, accounts: map[string]Account{}, windows: map[string]rateWindow{}}
	for k, v := range keys {
		s.setKeyLocked(k, v)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// URL is the base URL to configure as the paper or live URL, without a trailing slash.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server; later calls get connection errors. It is safe to call twice.
func (s *Server) Close() { s.closeOnce.Do(s.srv.Close) }

// SetKey makes a pair valid (or changes the secret of a known key), e.g. for key rotation.
func (s *Server) SetKey(apiKey, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setKeyLocked(apiKey, secret)
}

func (s *Server) setKeyLocked(apiKey, secret string) {
	s.secrets[apiKey] = secret
	if _, ok := s.accounts[apiKey]; !ok {
		s.accounts[apiKey] = DefaultAccount(apiKey)
	}
}

// Account is what the fake answers for apiKey, for tests to compare against.
func (s *Server) Account(apiKey string) Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[apiKey]
}

// SetAccount replaces what the fake answers for apiKey; the key must still be made valid
// with NewServer or SetKey.
func (s *Server) SetAccount(apiKey string, a Account) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accounts[apiKey] = a
}

// FailWith makes every request answer status with an Alpaca-style error body, whatever the
// keys. 0 restores normal answers.
func (s *Server) FailWith(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Hang makes every request wait d before answering, or until the client gives up. 0 restores.
func (s *Server) Hang(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang = d
}

// FailNext makes the next len(statuses) requests answer those statuses in order (Drop
// closes the connection instead), then answers normally again: a failure that passes.
func (s *Server) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, statuses...)
}

// RateLimit makes the fake count requests per API key in one-minute windows, as Alpaca
// does (about 200 a minute): every answer carries X-Ratelimit-Limit, X-Ratelimit-Remaining
// and X-Ratelimit-Reset (epoch seconds), and a request past the limit gets 429. 0 turns it
// off.
func (s *Server) RateLimit(perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = perMinute
	clear(s.windows)
}

// Calls counts every request received, valid or not.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// DefaultAccount is the account served for a key unless SetAccount says otherwise: an active
// paper-style USD account whose account number is derived from the key, so distinct keys
// get distinct numbers and the same key always gets the same one.
func DefaultAccount(apiKey string) Account {
	return Account{
		AccountNumber: accountNumber(apiKey),
		Status:        "ACTIVE",
		Currency:      "USD",
		Cash:          "103820.56",
		Equity:        "103820.56",
		BuyingPower:   "207641.12",
	}
}

func accountNumber(apiKey string) string {
	h := sha256.Sum256([]byte(apiKey))
	return fmt.Sprintf("PA%010d", binary.BigEndian.Uint64(h[:8])%10_000_000_000)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	status, hang := s.status, s.hang
	if len(s.failNext) > 0 {
		status, s.failNext = s.failNext[0], s.failNext[1:]
	}
	key, secret := r.Header.Get("APCA-API-KEY-ID"), r.Header.Get("APCA-API-SECRET-KEY")
	want, known := s.secrets[key]
	acct := s.accounts[key]
	limited := s.countLocked(w.Header(), key)
	s.mu.Unlock()

	if hang > 0 {
		timer := time.NewTimer(hang)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return // the client gave up; nobody reads an answer
		}
	}
	switch {
	case status == Drop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
	case status != 0:
		writeError(w, status)
	case limited:
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"code": 42910000, "message": "rate limit exceeded"})
	case r.Method != http.MethodGet || r.URL.Path != "/v2/account":
		writeJSON(w, http.StatusNotFound, map[string]any{"code": 40410000, "message": "endpoint not found"})
	case key == "" || !known || secret != want:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 40110000, "message": "request is not authorized"})
	default:
		writeJSON(w, http.StatusOK, body(key, acct))
	}
}

// countLocked spends one request of key's window, sets the rate-limit headers and says
// whether the request is over the limit.
func (s *Server) countLocked(h http.Header, key string) bool {
	if s.limit == 0 {
		return false
	}
	now := time.Now()
	win := s.windows[key]
	if now.Sub(win.start) >= time.Minute {
		win = rateWindow{start: now}
	}
	win.used++
	s.windows[key] = win
	h.Set("X-Ratelimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(max(s.limit-win.used, 0)))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(win.start.Add(time.Minute).Unix(), 10))
	return win.used > s.limit
}

// body is a full account object shaped like Alpaca's, so clients that ignore extra fields
// are tested against the real shape, not just the fields they read.
func body(apiKey string, a Account) map[string]any {
	h := sha256.Sum256([]byte("id:" + apiKey))
	h[6] = h[6]&0x0f | 0x40 // a well-formed v4 UUID, stable per key
	h[8] = h[8]&0x3f | 0x80
	id := fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
	return map[string]any{
		"id":                          id,
		"admin_configurations":        map[string]any{},
		"user_configurations":         nil,
		"account_number":              a.AccountNumber,
		"status":                      a.Status,
		"crypto_status":               "ACTIVE",
		"options_approved_level":      2,
		"options_trading_level":       2,
		"currency":                    a.Currency,
		"buying_power":                a.BuyingPower,
		"regt_buying_power":           a.BuyingPower,
		"daytrading_buying_power":     "0",
		"effective_buying_power":      a.BuyingPower,
		"non_marginable_buying_power": a.Cash,
		"options_buying_power":        a.Cash,
		"bod_dtbp":                    "0",
		"cash":                        a.Cash,
		"accrued_fees":                "0",
		"portfolio_value":             a.Equity,
		"pattern_day_trader":          a.PatternDayTrader,
		"trading_blocked":             a.TradingBlocked,
		"transfers_blocked":           false,
		"account_blocked":             a.AccountBlocked,
		"created_at":                  "2025-03-14T09:26:53.589793Z",
		"trade_suspended_by_user":     false,
		"multiplier":                  "2",
		"shorting_enabled":            true,
		"equity":                      a.Equity,
		"last_equity":                 a.Equity,
		"long_market_value":           "0",
		"short_market_value":          "0",
		"position_market_value":       "0",
		"initial_margin":              "0",
		"maintenance_margin":          "0",
		"last_maintenance_margin":     "0",
		"sma":                         "0",
		"daytrade_count":              a.DaytradeCount,
		"balance_asof":                "2026-11-25",
		"crypto_tier":                 1,
		"intraday_adjustments":        "0",
		"pending_reg_taf_fees":        "0",
	}
}

func writeError(w http.ResponseWriter, status int) {
	msg := strings.ToLower(http.StatusText(status))
	if msg == "" {
		msg = "error"
	}
	writeJSON(w, status, map[string]any{"code": status * 100000, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "alpacatest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
