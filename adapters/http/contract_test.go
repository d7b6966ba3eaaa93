package httpadapter

// The OpenAPI document (openapi/openapi.json) held to what the server does: every request a
// test of this package sends, and every answer it gets, goes through checkExchange, so a
// response whose status, headers or body the document does not describe fails the test
// that produced it. Requests sent deliberately against the contract (the tests of 400, 415,
// 422...) are marked with deliberatelyInvalid(): their answers are still checked.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/brokerly/accounts/adapters/http/openapi"
)

// contractDoc is the loaded document and the pseudo-operations for answers no operation of
// it has: a path no operation has, a method its path lacks, a CORS preflight, and a request
// the server could not even parse. Their responses are the document's components.
type contractDoc struct {
	doc         *openapi3.T
	paths       []contractPath
	noPath      *routers.Route
	noMethod    *routers.Route
	noPathAPI   *routers.Route // under /api/, the session is checked before the route
	noMethodAPI *routers.Route
	preflight   *routers.Route
	unparsed    *routers.Route
}

type contractPath struct {
	template string
	segs     []string
	item     *openapi3.PathItem
}

var loadContract = sync.OnceValues(func() (*contractDoc, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Document())
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is invalid: %w", err)
	}
	c := &contractDoc{doc: doc}
	for _, p := range doc.Paths.InMatchingOrder() {
		c.paths = append(c.paths, contractPath{template: p, segs: splitPath(p), item: doc.Paths.Value(p)})
	}
	pseudo := func(name string, statuses map[int]string) (*routers.Route, error) {
		var opts []openapi3.NewResponsesOption
		for status, component := range statuses {
			ref := doc.Components.Responses[component]
			if ref == nil {
				return nil, fmt.Errorf("the OpenAPI document has no components.responses.%s", component)
			}
			opts = append(opts, openapi3.WithStatus(status, ref))
		}
		op := &openapi3.Operation{Responses: openapi3.NewResponses(opts...)}
		return &routers.Route{Spec: doc, Path: name, PathItem: &openapi3.PathItem{}, Operation: op}, nil
	}
	// Anything can be refused before it is routed.
	early := map[int]string{400: "BadRequest", 408: "RequestTimeout", 413: "PayloadTooLarge", 431: "HeadersTooLarge"}
	with := func(status int, component string) map[int]string {
		m := map[int]string{status: component}
		for s, c := range early {
			m[s] = c
		}
		return m
	}
	session := func(m map[int]string) map[int]string {
		for s, c := range map[int]string{401: "Unauthenticated", 429: "RateLimited", 500: "Internal", 503: "Unavailable", 504: "Timeout"} {
			m[s] = c
		}
		return m
	}
	preflight := with(204, "Preflight")
	preflight[404] = "NotFound" // a preflight for a path no operation has
	var errs [6]error
	c.noPath, errs[0] = pseudo("(no such path)", with(404, "NotFound"))
	c.noMethod, errs[1] = pseudo("(no such method)", with(405, "MethodNotAllowed"))
	c.noPathAPI, errs[2] = pseudo("(no such path under /api)", session(with(404, "NotFound")))
	c.noMethodAPI, errs[3] = pseudo("(no such method under /api)", session(with(405, "MethodNotAllowed")))
	c.preflight, errs[4] = pseudo("(CORS preflight)", preflight)
	c.unparsed, errs[5] = pseudo("(unparsable request)", early)
	return c, errors.Join(errs[:]...)
})

func mustContract(t testing.TB) *contractDoc {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// route finds the operation for method and path as the router does: case-sensitive,
// trailing slashes ignored, a "{name}" segment standing for any one non-empty segment,
// and a path that matches several templates taking the first that has the method (PUT
// /api/credentials/store reaches /api/credentials/{id}). HEAD is answered by the GET
// operation.
func (c *contractDoc) route(method, path string) (*routers.Route, map[string]string) {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	segs := splitPath(path)
	matched := false
	for _, p := range c.paths {
		if !matchTemplate(p.segs, segs) {
			continue
		}
		matched = true
		op := p.item.GetOperation(method)
		if op == nil {
			continue
		}
		params := map[string]string{}
		for i, seg := range p.segs {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				v, err := url.PathUnescape(segs[i])
				if err != nil {
					v = segs[i]
				}
				params[strings.TrimSuffix(name, "}")] = v
			}
		}
		return &routers.Route{Spec: c.doc, Path: p.template, PathItem: p.item, Method: method, Operation: op}, params
	}
	api := strings.HasPrefix(path, "/api/")
	switch {
	case matched && api:
		return c.noMethodAPI, nil
	case matched:
		return c.noMethod, nil
	case api:
		return c.noPathAPI, nil
	}
	return c.noPath, nil
}

// matchTemplate is matchSegments (routetable.go) for the document's "{name}" segments.
func matchTemplate(template, path []string) bool {
	if len(template) != len(path) {
		return false
	}
	for i, seg := range template {
		if strings.HasPrefix(seg, "{") {
			if path[i] == "" {
				return false
			}
		} else if seg != path[i] {
			return false
		}
	}
	return true
}

// operations lists every (method, path template) the document has.
func (c *contractDoc) operations() []string {
	var out []string
	for _, p := range c.paths {
		for method := range p.item.Operations() {
			out = append(out, method+" "+p.template)
		}
	}
	slices.Sort(out)
	return out
}

// checkExchange validates req (sent with body) and resp against the document, and counts
// the (operation, status) pair for the coverage report. It leaves resp's body readable.
// On success it does not touch t, so a request that outlives its test cannot panic here.
func checkExchange(t testing.TB, req *http.Request, body []byte, resp *http.Response, mode requestCheck) {
	verifyExchange(t, req, body, resp, mode, recordCoverage)
}

// verifyExchange is checkExchange with the counting up to count.
func verifyExchange(t testing.TB, req *http.Request, body []byte, resp *http.Response, mode requestCheck,
	count func(method string, route *routers.Route, status int)) {
	c, err := loadContract()
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return // the connection broke: there is no answer to check
	}
	route, params := c.classify(req)
	count(req.Method, route, resp.StatusCode)
	if problems := c.check(route, params, req, body, resp.StatusCode, resp.Header, respBody, mode); len(problems) > 0 {
		target := "(unparsable)"
		if req.URL != nil {
			target = req.URL.RequestURI()
		}
		t.Errorf("%s %s → %d does not match the OpenAPI document (adapters/http/openapi/openapi.json):\n  %s\n  response body: %s",
			req.Method, target, resp.StatusCode, strings.Join(problems, "\n  "), truncate(respBody, 600))
	}
}

// check lists what of the exchange the document does not describe.
func (c *contractDoc) check(route *routers.Route, params map[string]string, req *http.Request, body []byte,
	status int, header http.Header, respBody []byte, mode requestCheck) []string {
	var problems []string
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{
		Request:    requestWithBody(req, body),
		PathParams: params,
		Route:      route,
		Options:    contractOptions(),
	}
	if mode == checkRequest && route.Method != "" && !markedInvalid(req) {
		if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
			problems = append(problems, fmt.Sprintf("the request does not match (mark it deliberatelyInvalid() if that is the point): %v", err))
		}
	}
	ref := route.Operation.Responses.Status(status)
	if ref == nil {
		return append(problems, fmt.Sprintf("%s does not list status %d", route.Path, status))
	}
	if status == http.StatusNotModified || req.Method == http.MethodHead {
		// openapi3filter skips both: check the headers here, and that there is no body.
		if len(respBody) > 0 {
			problems = append(problems, "a body where none may be")
		}
		for name, h := range ref.Value.Headers {
			if h.Value.Required && header.Get(name) == "" {
				problems = append(problems, "no "+name+" header")
			}
		}
		return problems
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Options:                contractOptions(),
	}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		problems = append(problems, err.Error())
	}
	if len(ref.Value.Content) == 0 && len(respBody) > 0 {
		problems = append(problems, "a body where the document has none")
	}
	return problems
}

// classify finds the operation the request reaches, or the pseudo-operation for one it
// cannot reach.
func (c *contractDoc) classify(req *http.Request) (*routers.Route, map[string]string) {
	switch {
	case req.URL == nil || req.Method == "":
		return c.unparsed, nil
	case req.Method == http.MethodOptions && req.Header.Get("Origin") != "" && req.Header.Get("Access-Control-Request-Method") != "":
		return c.preflight, nil
	}
	return c.route(req.Method, req.URL.Path)
}

// contractOptions fail a response whose status the operation does not list, report every
// mismatch at once, and keep the reports short (the reason, not the whole schema).
func contractOptions() *openapi3filter.Options {
	o := &openapi3filter.Options{AuthenticationFunc: presentedCredential, IncludeResponseStatus: true, MultiError: true}
	o.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string { return err.Reason })
	return o
}

func requestWithBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(context.Background())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return r
}

// presentedCredential accepts a request that presents the scheme's credential at all:
// whether it is a valid session is the server's business (and a 401 the document lists).
func presentedCredential(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	scheme := in.SecurityScheme
	switch scheme.Type {
	case "apiKey":
		for _, name := range []string{scheme.Name, "__Secure-" + scheme.Name} {
			if c, err := r.Cookie(name); err == nil && c.Value != "" {
				return nil
			}
		}
		return fmt.Errorf("no %s cookie", scheme.Name)
	case "http":
		if _, ok := bearerToken(r.Header.Get("Authorization")); ok {
			return nil
		}
		return errors.New("no bearer token")
	}
	return fmt.Errorf("unknown security scheme type %q", scheme.Type)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
