package httpadapter

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The router and the OpenAPI document have the same operations: a route the document lacks,
// or an operation the router does not have, fails here. Every GET route also answers HEAD,
// as the document says once for all of them.
func TestRouterAndDocumentHaveTheSameOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	param := regexp.MustCompile(`:(\w+)`)
	routed := map[string]bool{}
	for _, r := range e.srv.App().GetRoutes(true) {
		routed[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var router []string
	for route := range routed {
		method, path, _ := strings.Cut(route, " ")
		if method == http.MethodHead {
			assert.True(t, routed[http.MethodGet+" "+path], "HEAD %s has no GET beside it", path)
			continue
		}
		router = append(router, route)
	}
	slices.Sort(router)
	documented := mustContract(t).operations()
	for _, r := range router {
		assert.Contains(t, documented, r, "the router has %s; the OpenAPI document does not", r)
	}
	for _, d := range documented {
		assert.Contains(t, router, d, "the OpenAPI document has %s; the router does not", d)
	}
	assert.NotEmpty(t, router)
}
