package main

// Helpers of the numbered reliability tests (rel_*_test.go), on top of harness_test.go.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

const (
	relOrigin  = "http://app.test" // in startService's CORS_ALLOWED_ORIGINS
	evilOrigin = "https://evil.example"
	devCookie  = "better-auth.session_token"
)

// relSession is a user with a live session, in every form a client could present it.
type relSession struct {
	userID, token string
	sig           string // base64std(HMAC-SHA256(secret, token)): 44 characters ending in "="
}

// cookie is the browser's Cookie header: the value URL-encoded once, as Better Auth sets it.
func (s relSession) cookie() string { return devCookie + "=" + s.value() }

// value is the cookie value as the browser sends it.
func (s relSession) value() string { return url.QueryEscape(s.token + "." + s.sig) }

func (s relSession) bearer() string { return "Bearer " + s.token + "." + s.sig }

// browser is the headers of the web app's requests: the cookie and the allowed Origin.
func (s relSession) browser() []string { return []string{"Cookie", s.cookie(), "Origin", relOrigin} }

func sign(secret, token string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// newSessions inserts n users called prefix-0 … prefix-(n-1), each with a live session.
func newSessions(t *testing.T, dbURL, prefix string, n int) []relSession {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return sessionsFor(t, dbURL, ids...)
}

// sessionsFor inserts users with these ids, each with a live session, in one round trip,
// as Better Auth would.
func sessionsFor(t *testing.T, dbURL string, ids ...string) []relSession {
	t.Helper()
	out := make([]relSession, len(ids))
	tokens := make([]string, len(ids))
	for i := range out {
		tokens[i] = randomHex(16)
		out[i] = relSession{userID: ids[i], token: tokens[i], sig: sign(testSecret, tokens[i])}
	}
	sqlExec(t, dbURL, `WITH u AS (
			INSERT INTO "user" (id, name, email, "emailVerified")
			SELECT id, id, id || '@example.test', false FROM unnest($1::text[]) id RETURNING id)
		INSERT INTO "session" (id, "expiresAt", token, "updatedAt", "userId")
		SELECT 's-' || t.token, now() + interval '1 hour', t.token, now(), t.id
		FROM unnest($1::text[], $2::text[]) AS t(id, token)`, ids, tokens)
	return out
}

// count runs a count(*) query on the test's database as the superuser.
func count(t *testing.T, dbURL, query string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, query, args...).Scan(&n))
	return n
}

// tableDigest is md5 over every row of table as the superuser sees it: "unchanged" means equal.
func tableDigest(t *testing.T, dbURL, table string) string {
	t.Helper()
	var d string
	queryRow(t, dbURL, `SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM `+table+` r`, &d)
	return d
}

// backends counts the client sessions on the test's database other than this helper's own:
// it connects under its own application_name, so that a backend of an earlier call that is
// still exiting is not counted either.
func backends(t *testing.T, dbURL string) int {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	q := u.Query()
	q.Set("application_name", "rel-backends-probe")
	u.RawQuery = q.Encode()
	return count(t, u.String(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND backend_type = 'client backend' AND application_name <> 'rel-backends-probe'`)
}

// rawResponse is one request's outcome when failures are data, not test errors.
type rawResponse struct {
	status int
	header http.Header
	body   string
	took   time.Duration
	err    error
}

// send is service.call for clients other than the default one, tolerating transport errors.
func send(c *http.Client, method, target, body string, headers ...string) rawResponse {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		return rawResponse{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return rawResponse{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return rawResponse{status: res.StatusCode, header: res.Header, body: string(raw), took: time.Since(start), err: err}
}

// parallel runs n calls at once (released together) and returns their results in order.
func parallel(n int, call func(i int) rawResponse) []rawResponse {
	out := make([]rawResponse, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = call(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// loopbackClient is an HTTP client whose connections leave from the loopback address ip
// (Linux routes all of 127.0.0.0/8 to lo), so a test can be several peers of the service.
func loopbackClient(t *testing.T, ip string) *http.Client {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}
}

// poolClient keeps enough idle connections for parallel tests.
func poolClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 600, MaxConnsPerHost: 0}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
