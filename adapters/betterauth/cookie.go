package betterauth

// DefaultCookiePrefix is Better Auth's cookie prefix unless advanced.cookiePrefix says
// otherwise.
const DefaultCookiePrefix = "better-auth"

// securePrefix is what Better Auth prepends to every cookie name in secure mode.
const securePrefix = "__Secure-"

// CookieName is the one session cookie name Better Auth sets and reads for prefix (empty
// means DefaultCookiePrefix, as in Better Auth) in the given mode: "<prefix>.session_token",
// with "__Secure-" in front in secure mode.
//
// There is deliberately no second name to fall back on: Better Auth's getSession reads
// only this one, so a cookie under the other name (which a sibling subdomain can plant)
// must not count here either, or the service would act as a user Better Auth does not see
// (docs/better-auth.md, "Cookie names").
func CookieName(prefix string, secure bool) string {
	if prefix == "" {
		prefix = DefaultCookiePrefix
	}
	name := prefix + ".session_token"
	if secure {
		return securePrefix + name
	}
	return name
}
