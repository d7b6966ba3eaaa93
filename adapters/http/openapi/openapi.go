// Package openapi holds the service's OpenAPI 3.1 document, openapi.json: written by hand,
// embedded in the binary, served at GET /openapi.json and rendered at GET /docs. The HTTP
// adapter's tests hold it to the router and validate every request and response they make
// against it (docs/api.md is the prose version of the same contract).
package openapi

import _ "embed"

//go:embed openapi.json
var document []byte

// Document is the document's JSON. Callers must not modify it.
func Document() []byte { return document }
