package httpadapter

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/adapters/http/docsui"
	"github.com/brokerly/accounts/adapters/http/openapi"
)

// GET /openapi.json serves the embedded document without a session, cacheable, and 304
// for a client that has it already; HEAD has the headers and no body.
func TestOpenAPIDocumentIsServedWithoutASession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodGet, "/openapi.json", ""))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "public, max-age=300", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.True(t, bytes.Equal(openapi.Document(), readBody(t, resp)), "the embedded document, as it is")
	etag := resp.Header.Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{32}"$`, etag)

	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		again := e.do(newRequest(http.MethodGet, "/openapi.json", "", withHeader("If-None-Match", inm)))
		assert.Equal(t, http.StatusNotModified, again.StatusCode, inm)
		assert.Empty(t, readBody(t, again), inm)
		assert.Equal(t, etag, again.Header.Get("ETag"), inm)
	}
	stale := e.do(newRequest(http.MethodGet, "/openapi.json", "", withHeader("If-None-Match", `"0123"`)))
	assert.Equal(t, http.StatusOK, stale.StatusCode, "another version's tag gets the document")

	head := e.do(newRequest(http.MethodHead, "/openapi.json", ""))
	require.Equal(t, http.StatusOK, head.StatusCode)
	assert.Equal(t, etag, head.Header.Get("ETag"))
	assert.Empty(t, readBody(t, head))
}

// GET /docs is the page with a Content-Security-Policy that allows the service's own
// scripts, styles and requests only; every asset it loads is served from the binary, and
// any other name is 404.
func TestDocsPageAndItsAssetsAreServedFromTheBinary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	page := e.do(newRequest(http.MethodGet, "/docs", ""))
	require.Equal(t, http.StatusOK, page.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"))
	assert.True(t, bytes.Equal(docsui.Page().Body, readBody(t, page)))
	csp := page.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		assert.Contains(t, csp, directive)
	}
	assert.NotContains(t, csp, "unsafe-")
	assert.Equal(t, "no-referrer", page.Header.Get("Referrer-Policy"))
	etag := page.Header.Get("ETag")
	assert.Equal(t, http.StatusNotModified, e.do(newRequest(http.MethodGet, "/docs", "", withHeader("If-None-Match", etag))).StatusCode)

	for name, f := range docsui.Assets() {
		resp := e.do(newRequest(http.MethodGet, "/docs/assets/"+name, ""))
		require.Equal(t, http.StatusOK, resp.StatusCode, name)
		assert.Equal(t, f.ContentType, resp.Header.Get("Content-Type"), name)
		assert.True(t, bytes.Equal(f.Body, readBody(t, resp)), name)
		assert.Equal(t, "public, max-age=300", resp.Header.Get("Cache-Control"), name)
		assert.Equal(t, http.StatusNotModified, e.do(newRequest(http.MethodGet, "/docs/assets/"+name, "",
			withHeader("If-None-Match", resp.Header.Get("ETag")))).StatusCode, name)
	}
	for _, name := range []string{"index.html", "swagger-ui.css.map", "..%2Fdocs.html", "LICENSE"} {
		requireProblem(t, e.do(newRequest(http.MethodGet, "/docs/assets/"+name, "", deliberatelyInvalid())), http.StatusNotFound, "not_found")
	}
}

// The documentation's headers stay on the documentation: API answers keep theirs
// (no-store, no page policy).
func TestAPIAnswersKeepTheirHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := e.do(newRequest(http.MethodGet, "/api/accounts", "", withBearer(bearerA)))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Empty(t, resp.Header.Get("Content-Security-Policy"))
	assert.Empty(t, resp.Header.Get("ETag"))
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"))
}
