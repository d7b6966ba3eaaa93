package httpadapter

// How the tests' requests reach checkExchange (contract_test.go): through env.do and
// env.send, through a real-socket client made with contractClient, or, for requests written
// to a socket by hand, through checkRawExchange.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type invalidRequestKey struct{}

// deliberatelyInvalid marks a request that a test sends to be refused (a malformed body, a
// field that breaks a rule, no session...): its answer is validated, the request is not.
func deliberatelyInvalid() reqOption {
	return func(r *http.Request) {
		*r = *r.WithContext(context.WithValue(r.Context(), invalidRequestKey{}, true))
	}
}

func markedInvalid(r *http.Request) bool {
	v, _ := r.Context().Value(invalidRequestKey{}).(bool)
	return v
}

// requestCheck says what checkExchange does with the request itself.
type requestCheck int

const (
	checkRequest   requestCheck = iota // it must match the document, unless marked deliberatelyInvalid
	uncheckedInput                     // fuzzed or raw bytes: only the answer is checked
)

// takeBody reads r's body so that it can be sent and validated both.
func takeBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the request body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return b, nil
}

// checkRawExchange checks the answer to raw, a request written to a socket by hand: only
// the answer, since such requests are malformed or incomplete on purpose. When the rest
// does not parse, the request line still names the operation; when not even that parses,
// the answer is checked against those the server gives before routing.
func checkRawExchange(t testing.TB, raw string, resp *http.Response) {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		req = &http.Request{Header: http.Header{}}
		line, _, _ := strings.Cut(raw, "\r\n")
		if method, rest, ok := strings.Cut(line, " "); ok {
			target, _, _ := strings.Cut(rest, " ")
			if u, err := url.ParseRequestURI(target); err == nil {
				req.Method, req.URL = method, u
			}
		}
	}
	checkExchange(t, req, nil, resp, uncheckedInput)
}

// contractTransport checks every exchange of a real-socket client against the document.
type contractTransport struct {
	t    testing.TB
	base http.RoundTripper
}

func (c contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	body, err := takeBody(r)
	if err != nil {
		return nil, err
	}
	resp, err := c.base.RoundTrip(r)
	if err == nil {
		checkExchange(c.t, req, body, resp, checkRequest)
	}
	return resp, err
}

// contractClient is client (nil: http.DefaultClient's settings) with every exchange checked.
func contractClient(t testing.TB, client *http.Client) *http.Client {
	c := http.Client{}
	if client != nil {
		c = *client
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = contractTransport{t: t, base: base}
	return &c
}

// CloseIdleConnections passes on to the wrapped transport, so http.Client's works.
func (c contractTransport) CloseIdleConnections() {
	if ci, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
