// Package alpaca is the ports.Broker adapter for Alpaca's trading API. It asks one thing,
// GET /v2/account, with a user's key pair, and keeps that pair out of every error, log line
// and redirect. It respects Alpaca's limits (about 200 requests a minute per account): a 429
// is passed on with Alpaca's reset time, identical concurrent calls share one request, and
// only failures that may pass (5xx, the network) are retried, once.
package alpaca

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/ports"
)

const (
	DefaultPaperURL = "https://paper-api.alpaca.markets"
	DefaultLiveURL  = "https://api.alpaca.markets"
	DefaultTimeout  = 10 * time.Second

	// MaxBodyBytes bounds what is read of an answer; a real account object is about 1 KiB.
	MaxBodyBytes = 1 << 20

	accountPath = "/v2/account"
	userAgent   = "brokerly-accounts/alpaca"
)

// Config points the adapter at Alpaca. Zero fields take the defaults, so tests set only
// the URLs of their fake server.
type Config struct {
	PaperURL string
	LiveURL  string
	// Timeout bounds one whole call: connect, headers and body.
	Timeout time.Duration
}

// Client calls Alpaca. It is safe for concurrent use and holds no user's keys between calls.
type Client struct {
	flights    flights // identical calls in flight share one request
	hc         *http.Client
	paperURL   string // full URL of the account endpoint
	liveURL    string
	timeout    time.Duration
	paperLabel string // host only, for error messages
	liveLabel  string
}

var _ ports.Broker = (*Client)(nil)

// New checks cfg and builds a client. A nil hc gets a dedicated client with bounded
// transport limits. Whatever hc is given, the client never follows redirects (Go would
// forward the APCA-* headers, so the secret, to wherever the redirect points) and never
// keeps cookies (the client is shared by all users).
func New(cfg Config, hc *http.Client) (*Client, error) {
	if cfg.PaperURL == "" {
		cfg.PaperURL = DefaultPaperURL
	}
	if cfg.LiveURL == "" {
		cfg.LiveURL = DefaultLiveURL
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("alpaca: timeout must be positive, got %s", cfg.Timeout)
	}
	paper, err := baseURL("paper", cfg.PaperURL)
	if err != nil {
		return nil, err
	}
	live, err := baseURL("live", cfg.LiveURL)
	if err != nil {
		return nil, err
	}
	var client http.Client
	if hc == nil {
		client = http.Client{Transport: newTransport(cfg.Timeout), Timeout: cfg.Timeout}
	} else {
		client = *hc
	}
	client.CheckRedirect = refuseRedirect
	client.Jar = nil
	return &Client{
		hc:         &client,
		paperURL:   paper.String() + accountPath,
		liveURL:    live.String() + accountPath,
		timeout:    cfg.Timeout,
		paperLabel: paper.Host,
		liveLabel:  live.Host,
	}, nil
}

// baseURL accepts an absolute http(s) URL with a host and nothing that could carry
// credentials or change the request (userinfo, query, fragment). A path prefix is kept,
// without its trailing slash.
func baseURL(name, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("alpaca: %s URL is not a URL", name) // the parse error quotes the input
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("alpaca: %s URL must be absolute http or https", name)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("alpaca: %s URL has no host", name)
	case u.User != nil:
		return nil, fmt.Errorf("alpaca: %s URL must not contain userinfo", name)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, fmt.Errorf("alpaca: %s URL must not contain a query", name)
	case u.Fragment != "" || u.RawFragment != "":
		return nil, fmt.Errorf("alpaca: %s URL must not contain a fragment", name)
	case u.Opaque != "":
		return nil, fmt.Errorf("alpaca: %s URL must be absolute http or https", name)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func newTransport(timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    16,
		MaxConnsPerHost:        64,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Account asks Alpaca for the account behind the key pair. 401/403 is ports.ErrBrokerRejected;
// 429 is a *ports.BrokerBusyError with the wait Alpaca announced; every other failure wraps
// ports.ErrBrokerFailed. Error messages name the environment, the host and a status code or
// a short cause, never the key, the secret or the body.
//
// Concurrent calls for the same key pair share one request (each caller still returns when
// its own context ends); the shared request is bounded by the client's timeout, so the
// first caller giving up does not fail the others, and ends when the last one gives up.
func (c *Client) Account(ctx context.Context, env credential.Environment, apiKey, secretKey credential.Plaintext) (ports.BrokerAccount, error) {
	if err := ctx.Err(); err != nil {
		return ports.BrokerAccount{}, transportError(ctx, env.String(), c.timeout, err)
	}
	acct, err := c.flights.do(ctx, flightKey(env, apiKey, secretKey), c.timeout, func(ctx context.Context) (ports.BrokerAccount, error) {
		return c.accountWithRetry(ctx, env, apiKey, secretKey)
	})
	if err != nil && ctx.Err() != nil {
		return ports.BrokerAccount{}, transportError(ctx, env.String(), c.timeout, ctx.Err())
	}
	return acct, err
}

// flightKey identifies a call by what it asks, without holding the secret in the clear.
func flightKey(env credential.Environment, apiKey, secretKey credential.Plaintext) string {
	h := sha256.New()
	for _, part := range []string{env.String(), apiKey.Reveal(), secretKey.Reveal()} {
		_ = binary.Write(h, binary.BigEndian, uint32(len(part)))
		h.Write([]byte(part))
	}
	return string(h.Sum(nil))
}

// Retries: a 5xx or a network failure may pass, so it is tried once more after a short,
// jittered pause, if the call's deadline leaves room for a whole second attempt; a 4xx
// (rejected keys, Alpaca's rate limit) never changes by asking again.
const (
	retryPause      = 200 * time.Millisecond
	retryJitter     = 200 * time.Millisecond
	minRetryAttempt = time.Second // an attempt with less time than this is not worth making
)

func (c *Client) accountWithRetry(ctx context.Context, env credential.Environment, apiKey, secretKey credential.Plaintext) (ports.BrokerAccount, error) {
	acct, err := c.account(ctx, env, apiKey, secretKey)
	if err == nil || !retryable(err) {
		return acct, err
	}
	pause := retryPause + rand.N(retryJitter)
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < pause+minRetryAttempt {
		return acct, err
	}
	timer := time.NewTimer(pause)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return acct, err
	case <-timer.C:
	}
	return c.account(ctx, env, apiKey, secretKey)
}

// retryable is a 5xx or a transport failure (the network, a connection cut mid-body) that
// is not the end of the call's time. A 4xx is the broker's verdict and a malformed answer
// is a bug on one side; neither changes by asking again.
func retryable(err error) bool {
	var status *statusError
	var transport *failure
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.As(err, &status):
		return status.code >= 500
	default:
		return errors.As(err, &transport)
	}
}

// statusError is an unexpected status, kept for the retry decision.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string   { return e.msg }
func (e *statusError) Unwrap() []error { return []error{ports.ErrBrokerFailed} }

func (c *Client) account(ctx context.Context, env credential.Environment, apiKey, secretKey credential.Plaintext) (ports.BrokerAccount, error) {
	var endpoint, host string
	switch env {
	case credential.Paper:
		endpoint, host = c.paperURL, c.paperLabel
	case credential.Live:
		endpoint, host = c.liveURL, c.liveLabel
	default:
		return ports.BrokerAccount{}, fmt.Errorf("%w: alpaca: unknown environment", ports.ErrBrokerFailed)
	}
	where := env.String() + " " + host
	key, secret := apiKey.Reveal(), secretKey.Reveal()
	if key == "" || secret == "" {
		// Only a bug upstream can get here; sending empty headers would look like a user error.
		return ports.BrokerAccount{}, fmt.Errorf("%w: alpaca %s: empty api key or secret", ports.ErrBrokerFailed, where)
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return ports.BrokerAccount{}, fmt.Errorf("%w: alpaca %s: build request", ports.ErrBrokerFailed, where)
	}
	req.Header.Set("APCA-API-KEY-ID", key)
	req.Header.Set("APCA-API-SECRET-KEY", secret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := c.hc.Do(req)
	if err != nil {
		return ports.BrokerAccount{}, transportError(ctx, where, c.timeout, err)
	}
	defer closeBody(resp.Body)

	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return ports.BrokerAccount{}, fmt.Errorf("%w: alpaca %s: status %d", ports.ErrBrokerRejected, where, resp.StatusCode)
	case resp.StatusCode == http.StatusTooManyRequests:
		return ports.BrokerAccount{}, &ports.BrokerBusyError{RetryAfter: retryAfter(resp.Header, time.Now())}
	case resp.StatusCode != http.StatusOK:
		return ports.BrokerAccount{}, &statusError{code: resp.StatusCode,
			msg: fmt.Sprintf("%s: alpaca %s: unexpected status %d", ports.ErrBrokerFailed, where, resp.StatusCode)}
	}

	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return ports.BrokerAccount{}, transportError(ctx, where, c.timeout, err)
	}
	if len(body) > MaxBodyBytes {
		return ports.BrokerAccount{}, fmt.Errorf("%w: alpaca %s: response body over %d bytes", ports.ErrBrokerFailed, where, MaxBodyBytes)
	}
	acct, err := decodeAccount(body)
	if err != nil {
		return ports.BrokerAccount{}, fmt.Errorf("%w: alpaca %s: %w", ports.ErrBrokerFailed, where, err)
	}
	return acct, nil
}

// retryAfter is how long Alpaca asks to wait: until X-Ratelimit-Reset (epoch seconds), else
// a Retry-After in seconds, else a second; at least a second, at most a minute (its window).
func retryAfter(h http.Header, now time.Time) time.Duration {
	wait := time.Second
	if reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
		wait = time.Unix(reset, 0).Sub(now)
	} else if secs, err := strconv.Atoi(h.Get("Retry-After")); err == nil {
		wait = time.Duration(secs) * time.Second
	}
	return min(max(wait, time.Second), time.Minute).Round(time.Second)
}

// closeBody drains a little of what is left so the connection can be reused, then closes.
func closeBody(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, 64<<10))
	_ = b.Close()
}

// transportError names the cause in a few fixed words. The underlying error stays in the
// chain for errors.Is/As (context.Canceled, context.DeadlineExceeded, *net.OpError) but
// not in the message, which a caller may log or show.
func transportError(ctx context.Context, where string, timeout time.Duration, err error) error {
	var cause string
	var netErr net.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		cause = "request canceled"
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout()):
		cause = fmt.Sprintf("no answer within %s", timeout)
	case errors.As(err, &dnsErr):
		cause = "DNS lookup failed"
	case errors.As(err, &opErr):
		cause = "network error (" + opErr.Op + ")"
	default:
		cause = "transport error"
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = errors.Join(err, ctxErr) // so errors.Is(err, context.DeadlineExceeded) holds
	}
	return &failure{msg: "alpaca " + where + ": " + cause, cause: err}
}

// failure is a ports.ErrBrokerFailed whose message is ours alone while its cause is still
// reachable with errors.Is/As.
type failure struct {
	msg   string
	cause error
}

func (f *failure) Error() string   { return ports.ErrBrokerFailed.Error() + ": " + f.msg }
func (f *failure) Unwrap() []error { return []error{ports.ErrBrokerFailed, f.cause} }
