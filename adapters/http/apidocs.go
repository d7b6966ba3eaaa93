package httpadapter

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/adapters/http/docsui"
	"github.com/brokerly/accounts/adapters/http/openapi"
	"github.com/brokerly/accounts/domain"
)

// The API's own documentation: GET /openapi.json (the OpenAPI document), GET /docs (the
// page that renders it) and GET /docs/assets/{asset} (the page's script and styles). All of
// it is embedded in the binary and needs no session.

// staticFile is an embedded file with its strong validator.
type staticFile struct {
	contentType string
	body        []byte
	etag        string
}

func newStaticFile(contentType string, body []byte) staticFile {
	sum := sha256.Sum256(body)
	return staticFile{contentType: contentType, body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

var (
	openAPIFile = newStaticFile("application/json", openapi.Document())
	docsPage    = newStaticFile(docsui.Page().ContentType, docsui.Page().Body)
	docsAssets  = func() map[string]staticFile {
		out := map[string]staticFile{}
		for name, f := range docsui.Assets() {
			out[name] = newStaticFile(f.ContentType, f.Body)
		}
		return out
	}()
)

// staticCacheControl lets browsers and proxies keep the files for a while: they change
// only with a new build, and the ETag makes a later check cheap.
const staticCacheControl = "public, max-age=300"

// docsCSP allows the page its own scripts, styles and requests only. data: images are the
// icons inlined in Swagger UI's style sheet (and the page's empty favicon); nothing else
// inline runs.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// openAPIDocument: GET /openapi.json.
func (s *Server) openAPIDocument(c *fiber.Ctx) error { return sendStatic(c, openAPIFile) }

// docs: GET /docs.
func (s *Server) docs(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentSecurityPolicy, docsCSP)
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	return sendStatic(c, docsPage)
}

// docsAsset: GET /docs/assets/{asset}.
func (s *Server) docsAsset(c *fiber.Ctx) error {
	f, ok := docsAssets[c.Params("asset")]
	if !ok {
		return domain.ErrNotFound
	}
	return sendStatic(c, f)
}

// sendStatic answers with f, or 304 when the client's If-None-Match names its ETag.
func sendStatic(c *fiber.Ctx, f staticFile) error {
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderCacheControl, staticCacheControl)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), f.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}

// etagMatches is If-None-Match's weak comparison: any listed tag equal to etag up to a W/
// prefix, or "*".
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
