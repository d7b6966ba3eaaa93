// Package docsui is the page GET /docs serves: Swagger UI rendering the OpenAPI document,
// with every file it loads embedded in the binary, so that it works offline and asks no
// other host for anything. dist/ holds the files of the npm package swagger-ui-dist at the
// version package.json pins (with its LICENSE and NOTICE); `go tool task docs:ui` copies
// them there after a version change.
package docsui

import _ "embed"

var (
	//go:embed docs.html
	page []byte
	//go:embed docs.js
	initScript []byte
	//go:embed dist/swagger-ui-bundle.js
	bundle []byte
	//go:embed dist/swagger-ui.css
	styles []byte
)

// File is one file of the page. Callers must not modify Body.
type File struct {
	ContentType string
	Body        []byte
}

// Page is the HTML page.
func Page() File { return File{"text/html; charset=utf-8", page} }

// Assets are the files the page loads from /docs/assets/, by name.
func Assets() map[string]File {
	return map[string]File{
		"swagger-ui-bundle.js": {"text/javascript; charset=utf-8", bundle},
		"swagger-ui.css":       {"text/css; charset=utf-8", styles},
		"docs.js":              {"text/javascript; charset=utf-8", initScript},
	}
}
