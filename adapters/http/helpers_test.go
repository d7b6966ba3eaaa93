package httpadapter

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/brokerly/accounts/adapters/memory"
	"github.com/brokerly/accounts/app"
	"github.com/brokerly/accounts/app/apptest"
	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/account"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

const (
	allowedOrigin = "http://localhost:5173"
	evilOrigin    = "https://evil.example"

	secureCookie = "__Secure-better-auth.session_token"
	devCookie    = "better-auth.session_token"

	// Session values as a browser sends them: URL-encoded, as Better Auth sets them.
	cookieA = "tUPsAoZWuxQHuqTLyyK7jlvEkSIfdThO.w7hbRT%2FiX%2FvmLLngikyIbckvKYEqT%2Bki%2FViMsgAlclw%3D"
	cookieB = "XJExhSwEy7z0ziwe8LeXknpAioQkAQLh.%2FxXogZdy6DBnDBXTmckAxf72lTd4DyFBwLzTdXfGHSI%3D"
	bearerA = "tUPsAoZWuxQHuqTLyyK7jlvEkSIfdThO.w7hbRT/iX/vmLLngikyIbckvKYEqT+ki/ViMsgAlclw="
	bearerB = "XJExhSwEy7z0ziwe8LeXknpAioQkAQLh./xXogZdy6DBnDBXTmckAxf72lTd4DyFBwLzTdXfGHSI="
	// cookieGone is validly signed, but its session has ended.
	cookieGone = "oWFzVFJ68XCX4FLouF24nZljUJjf4KP4.NLipG2sg5nJaTpI6ZdE2eFWIba32F0Dpdxy8Qz0UHfk%3D"
)

var (
	userA = mustUser("userAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	userB = mustUser("userBBBBBBBBBBBBBBBBBBBBBBBBBBBB")
)

func mustUser(s string) user.ID {
	id, err := user.ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// fakeVerifier stands in for the signature check: it knows which presented cookie or
// bearer values are validly signed, and hands on a session token for each; whether that
// session is live is the store's business, as in production. It can be told to fail.
type fakeVerifier struct {
	mu     sync.Mutex
	signed map[string]bool
	fail   error
	leak   bool // fail with an error that quotes the proof, like a careless adapter
	calls  []ports.SessionProof
}

func newFakeVerifier() *fakeVerifier {
	return &fakeVerifier{signed: map[string]bool{cookieA: true, bearerA: true, cookieB: true, bearerB: true, cookieGone: true}}
}

// tokenOf is the session token the fake hands on for a signed proof: the part before the
// last dot, as in Better Auth's values (cookie and bearer of one session share it).
func tokenOf(proof string) string {
	if i := strings.LastIndexByte(proof, '.'); i > 0 {
		return proof[:i]
	}
	return proof
}

func (f *fakeVerifier) Verify(p ports.SessionProof) (user.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, p)
	if f.fail != nil {
		return user.Session{}, f.fail
	}
	if f.leak {
		return user.Session{}, fmt.Errorf("verify %q (%q): %w", p.Bearer+p.Cookie, strings.Split(p.Bearer+p.Cookie, ".")[0], errDatabaseExploded)
	}
	if (p.Bearer == "") == (p.Cookie == "") {
		return user.Session{}, fmt.Errorf("exactly one proof expected: %w", ports.ErrUnauthenticated)
	}
	if !f.signed[p.Bearer+p.Cookie] {
		return user.Session{}, fmt.Errorf("bad signature: %w", ports.ErrUnauthenticated)
	}
	return user.NewSession(tokenOf(p.Bearer + p.Cookie))
}

func (f *fakeVerifier) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

func (f *fakeVerifier) sign(proof string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signed[proof] = true
}

func (f *fakeVerifier) proofs() []ports.SessionProof {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ports.SessionProof(nil), f.calls...)
}

// fixedClock makes timestamps predictable.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// brokenAccounts and brokenCredentials are repositories whose every call runs fail instead:
// a broken, panicking or hanging database.
type brokenAccounts struct{ fail func(context.Context) error }

func (b brokenAccounts) List(ctx context.Context, _ user.Session) ([]account.Account, error) {
	return nil, b.fail(ctx)
}

func (b brokenAccounts) Add(ctx context.Context, _ user.Session, _ ports.OpenAccount) (account.Account, error) {
	return account.Account{}, b.fail(ctx)
}

func (b brokenAccounts) AddIfAbsent(ctx context.Context, _ user.Session, _ ports.OpenAccount) (account.Account, bool, error) {
	return account.Account{}, false, b.fail(ctx)
}

type brokenCredentials struct{ fail func(context.Context) error }

func (b brokenCredentials) List(ctx context.Context, _ user.Session, _ domain.ID, _ credential.Page) ([]credential.Credential, bool, error) {
	return nil, false, b.fail(ctx)
}

func (b brokenCredentials) Get(ctx context.Context, _ user.Session, _ domain.ID) (credential.Credential, error) {
	return credential.Credential{}, b.fail(ctx)
}

func (b brokenCredentials) Add(ctx context.Context, _ user.Session, _ domain.ID, _ int, _ ports.NewCredential) (credential.Credential, error) {
	return credential.Credential{}, b.fail(ctx)
}

func (b brokenCredentials) Update(ctx context.Context, _ user.Session, _ domain.ID, _ func(*credential.Credential) error) (credential.Credential, error) {
	return credential.Credential{}, b.fail(ctx)
}

func (b brokenCredentials) Delete(ctx context.Context, _ user.Session, _ domain.ID) error {
	return b.fail(ctx)
}

type brokenTrail struct{ fail func(context.Context) error }

func (b brokenTrail) Record(ctx context.Context, _ user.Session, _ credential.Credential, _ credential.Action, _ credential.Outcome) error {
	return b.fail(ctx)
}

func (b brokenTrail) Events(ctx context.Context, _ user.Session, _ domain.ID, _ credential.EventPage) ([]credential.Event, bool, error) {
	return nil, false, b.fail(ctx)
}

// openFailing resolves the session through the real store, then fails the write.
type openFailing struct {
	ports.AccountRepository
	err error
}

func (f openFailing) Add(ctx context.Context, s user.Session, _ ports.OpenAccount) (account.Account, error) {
	return f.AccountRepository.Add(ctx, s, func(user.ID) (account.Account, error) { return account.Account{}, f.err })
}

// failing, panicking and hanging are the ways a database breaks.
func failing(err error) func(context.Context) error {
	return func(context.Context) error { return err }
}

func panicking(context.Context) error { panic("boom in the repository") }

func hanging(ctx context.Context) error {
	<-ctx.Done()
	return fmt.Errorf("hang: %w", ctx.Err())
}

type env struct {
	t        testing.TB
	srv      *Server
	store    *memory.Store
	verifier *fakeVerifier
	logs     *observer.ObservedLogs
	broker   *apptest.Broker
	budget   *apptest.BrokerBudget
}

// The one key pair the fake broker accepts.
const (
	validAPIKey = "AKCANARYVALID0001"
	validSecret = "SKCANARYVALIDSECRET0001"
)

type envOptions struct {
	cfg     Config
	broken  func(context.Context) error
	gate    *gate
	openErr error
	clock   ports.Clock
	ready   Readiness
	quiet   bool
}

type envOption func(*envOptions)

// withOpenFailing makes account creation fail with err once the session has resolved, as a
// write that the database refuses after its context statement did.
func withOpenFailing(err error) envOption { return func(o *envOptions) { o.openErr = err } }

// withGate holds every account write at g until g is released.
func withGate(g *gate) envOption { return func(o *envOptions) { o.gate = g } }

// withBroken replaces the repositories and the trail with ones whose every call runs fail.
func withBroken(fail func(context.Context) error) envOption {
	return func(o *envOptions) { o.broken = fail }
}
func withClock(c ports.Clock) envOption    { return func(o *envOptions) { o.clock = c } }
func withReady(r Readiness) envOption      { return func(o *envOptions) { o.ready = r } }
func withConfig(f func(*Config)) envOption { return func(o *envOptions) { f(&o.cfg) } }

// withoutLogs keeps nothing: for fuzzing, where the observer would grow without bound.
func withoutLogs() envOption { return func(o *envOptions) { o.quiet = true } }

func withRequestTimeout(d time.Duration) envOption {
	return withConfig(func(c *Config) { c.RequestTimeout = d })
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	store := memory.NewStore()
	o := envOptions{
		cfg: Config{
			AllowedOrigins:    []string{allowedOrigin, "https://app.brokerly.example"},
			SessionCookieName: secureCookie,
		},
		clock: ports.SystemClock{},
	}
	for _, opt := range opts {
		opt(&o)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	if o.quiet {
		log = zap.NewNop()
	}
	v := newFakeVerifier()
	// The store knows the sessions of A and B; cookieGone is validly signed but signed out.
	store.AddSession(tokenOf(cookieA), userA)
	store.AddSession(tokenOf(cookieB), userB)
	var accounts ports.AccountRepository = store.Accounts()
	var credentials ports.CredentialRepository = store.Credentials()
	var trail ports.CredentialTrail = store.Trail()
	if o.broken != nil {
		accounts, credentials, trail = brokenAccounts{o.broken}, brokenCredentials{o.broken}, brokenTrail{o.broken}
	}
	if o.gate != nil {
		accounts = heldAccounts{AccountRepository: accounts, gate: o.gate}
	}
	if o.openErr != nil {
		accounts = openFailing{AccountRepository: accounts, err: o.openErr}
	}
	broker := apptest.NewBroker(map[string]string{validAPIKey: validSecret})
	budget := apptest.NewBrokerBudget(math.MaxInt, time.Second)
	application := app.New(app.Deps{Sessions: store.Sessions(), Accounts: accounts, Credentials: credentials, Trail: trail,
		Cipher: apptest.NewCipher("k1"), Broker: broker, BrokerBudget: budget, Clock: o.clock})
	srv := NewServer(o.cfg, application, v, o.ready, log)
	return &env{t: t, srv: srv, store: store, verifier: v, logs: logs, broker: broker, budget: budget}
}

// do sends req through the app with no client timeout, and checks the request and its
// answer against the OpenAPI document (contract_test.go).
func (e *env) do(req *http.Request) *http.Response {
	e.t.Helper()
	resp, err := e.send(e.t, req, checkRequest)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// send is do for callers that handle the error themselves (goroutines, fuzz targets): the
// exchange is checked against the OpenAPI document, the request itself as mode says.
func (e *env) send(t testing.TB, req *http.Request, mode requestCheck) (*http.Response, error) {
	body, err := takeBody(req)
	if err != nil {
		return nil, err
	}
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		return nil, err
	}
	checkExchange(t, req, body, resp, mode)
	return resp, nil
}

// accountsOf reads the store directly, as the user would see it.
func (e *env) accountsOf(uid user.ID) []account.Account {
	e.t.Helper()
	out, err := e.store.Accounts().List(context.Background(), e.store.SignIn(uid))
	require.NoError(e.t, err)
	return out
}

// addSession makes proof a validly signed session of uid.
func (e *env) addSession(proof string, uid user.ID) {
	e.verifier.sign(proof)
	e.store.AddSession(tokenOf(proof), uid)
}

type reqOption func(*http.Request)

func withCookie(name, value string) reqOption {
	return func(r *http.Request) { r.Header.Add("Cookie", name+"="+value) }
}
func withBearer(tok string) reqOption {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}
func withHeader(k, v string) reqOption { return func(r *http.Request) { r.Header.Set(k, v) } }
func withOrigin(o string) reqOption    { return withHeader("Origin", o) }
func withJSON() reqOption              { return withHeader("Content-Type", "application/json") }

// asBrowserA is user A's SPA: the session cookie, the allowed origin, a JSON body.
func asBrowserA() reqOption {
	return both(withCookie(secureCookie, cookieA), withOrigin(allowedOrigin), withJSON())
}
func asBrowserB() reqOption {
	return both(withCookie(secureCookie, cookieB), withOrigin(allowedOrigin), withJSON())
}

func both(opts ...reqOption) reqOption {
	return func(r *http.Request) {
		for _, o := range opts {
			o(r)
		}
	}
}

func newRequest(method, target, body string, opts ...reqOption) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	for _, o := range opts {
		o(r)
	}
	return r
}

// bodyWithoutInstance is a problem body with its instance taken out, after checking that
// the instance is the request's own id: what must not differ between two refusals is
// everything else.
func bodyWithoutInstance(t testing.TB, resp *http.Response) string {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal(readBody(t, resp), &p))
	require.Equal(t, resp.Header.Get("X-Request-Id"), p["instance"], "instance is the request id")
	delete(p, "instance")
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return string(b)
}

func readBody(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func decodeAs[T any](t testing.TB, resp *http.Response) T {
	t.Helper()
	var v T
	body := readBody(t, resp)
	require.NoError(t, json.Unmarshal(body, &v), "body: %s", body)
	return v
}

// requireProblem checks a problem response's status, content type and code.
func requireProblem(t *testing.T, resp *http.Response, status int, code string) Problem {
	t.Helper()
	body := readBody(t, resp)
	require.Equal(t, status, resp.StatusCode, "body: %s", body)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	var p Problem
	require.NoError(t, json.Unmarshal(body, &p), "body: %s", body)
	require.Equal(t, "about:blank", p.Type)
	require.Equal(t, status, p.Status)
	require.Equal(t, http.StatusText(status), p.Title)
	require.Equal(t, code, p.Code)
	require.NotEmpty(t, p.Detail)
	require.NotEmpty(t, p.Instance, "every problem names its request")
	require.Equal(t, resp.Header.Get("X-Request-Id"), p.Instance)
	return p
}

var errDatabaseExploded = errors.New(`ERROR: relation "trading_accounts" does not exist (SQLSTATE 42P01) at /srv/app/adapters/postgres/accounts.go:42`)

func newEnvApp() app.Application {
	store := memory.NewStore()
	return app.New(app.Deps{Sessions: store.Sessions(), Accounts: store.Accounts(), Credentials: store.Credentials(), Trail: store.Trail(), Cipher: apptest.NewCipher("k1"),
		Broker: apptest.NewBroker(nil), BrokerBudget: apptest.NewBrokerBudget(math.MaxInt, time.Second), Clock: ports.SystemClock{}})
}

// serve runs the server on a loopback socket until the test ends and returns its base URL,
// for what app.Test cannot show: responses fasthttp writes before any handler runs, and
// shutdown.
func (e *env) serve() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(e.t, err)
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.srv.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String()
}

func fieldInt(key string, v int) zap.Field { return zap.Int(key, v) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// announceBody sends only the headers of a POST whose Content-Length is size, as user A's
// browser, and reads the answer: a server that refuses on the length answers at once.
func announceBody(t testing.TB, base, path string, size int) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(3*time.Second)))
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Cookie: %s=%s\r\nOrigin: %s\r\nContent-Length: %d\r\n\r\n", path, secureCookie, cookieA, allowedOrigin, size)
	_, err = io.WriteString(conn, head)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	checkRawExchange(t, head, resp)
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}
