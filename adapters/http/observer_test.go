package httpadapter

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingObserver keeps what the server told it.
type recordingObserver struct {
	mu      sync.Mutex
	methods []string // kept as given: a label must not change after the request is over
	routes  []string
	status  []int
	auth    []string
}

func (o *recordingObserver) Request(method, route string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.methods, o.routes, o.status = append(o.methods, method), append(o.routes, route), append(o.status, status)
}

func (o *recordingObserver) Authentication(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.auth = append(o.auth, outcome)
}

// take returns "METHOD route status" per request, and the authentication outcomes.
func (o *recordingObserver) take() (requests, auth []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.methods {
		requests = append(requests, o.methods[i]+" "+o.routes[i]+" "+http.StatusText(o.status[i]))
	}
	auth = o.auth
	o.methods, o.routes, o.status, o.auth = nil, nil, nil, nil
	return requests, auth
}

// Every request is observed with its route template (never a path with an id in it) and
// every authentication with why it ended as it did.
func TestObserverHearsRouteTemplatesAndAuthOutcomes(t *testing.T) {
	t.Parallel()
	obs := &recordingObserver{}
	e := newEnv(t, withConfig(func(c *Config) { c.Observer = obs }))
	cred := e.storeCredential(t, asBrowserA(), e.accountOf(t, asBrowserA()), "")
	obs.take()
	id := cred.ID

	for _, r := range []*http.Request{
		newRequest(http.MethodGet, "/api/credentials/"+id+"/events", "", withBearer(bearerA)),
		newRequest(http.MethodGet, "/api/credentials/"+id+"/events", "", deliberatelyInvalid()),
		newRequest(http.MethodGet, "/api/credentials/"+id+"/account-data", "", withBearer(bearerA+"x"), deliberatelyInvalid()),
		newRequest(http.MethodDelete, "/api/credentials/"+id, "", withCookie(secureCookie, cookieGone), withOrigin(allowedOrigin)),
		newRequest(http.MethodPost, "/api/credentials/store", `{}`, asBrowserA(), deliberatelyInvalid()),
		newRequest(http.MethodPatch, "/api/credentials/"+id, "", withBearer(bearerA), deliberatelyInvalid()),
		newRequest(http.MethodGet, "/wp-admin/"+id, "", deliberatelyInvalid()),
		newRequest("PROPFIND", "/healthz", "", deliberatelyInvalid()),
		newRequest(http.MethodHead, "/healthz", ""),
	} {
		e.do(r)
	}
	requests, auth := obs.take()
	assert.Equal(t, []string{
		"GET /api/credentials/:id/events OK",
		"GET /api/credentials/:id/events Unauthorized",
		"GET /api/credentials/:id/account-data Unauthorized",
		"DELETE /api/credentials/:id Unauthorized",
		"POST /api/credentials/store Unprocessable Entity",
		"PATCH /api/credentials/:id Method Not Allowed",
		"GET unmatched Not Found",
		"other /healthz Bad Request",
		"HEAD /healthz OK",
	}, requests) // route templates: no id in a label
	assert.Equal(t, []string{AuthOK, AuthNoCredentials, AuthBadSignature, "unknown_session", AuthOK, AuthOK}, auth)
}

// The access log can be turned off for busy instances; errors are still logged.
func TestAccessLogOffKeepsErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withConfig(func(c *Config) { c.DisableAccessLog = true }), withBroken(panicking))
	require.Equal(t, http.StatusOK, e.do(newRequest(http.MethodGet, "/healthz", "")).StatusCode)
	requireProblem(t, e.do(newRequest(http.MethodGet, "/nowhere", "")), http.StatusNotFound, "not_found")
	assert.Zero(t, e.logs.Len(), "no access log lines")

	requireProblem(t, e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerA))), http.StatusInternalServerError, "internal")
	require.Equal(t, 1, e.logs.Len(), "the 500 is still logged, with its error")
	assert.Contains(t, e.logs.All()[0].ContextMap(), "error")
}
