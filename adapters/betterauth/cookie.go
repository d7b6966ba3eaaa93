package betterauth

// DefaultCookiePrefix is Better Auth's cookie prefix unless advanced.cookiePrefix says
// otherwise.
const DefaultCookiePrefix = "better-auth"

// securePrefix is what Better Auth prepends to every cookie name when it sets Secure.
const securePrefix = "__Secure-"

// CookieNames lists the session cookie names to read, in order of preference; the HTTP
// adapter takes the first one present. An empty prefix means DefaultCookiePrefix.
//
// secureOnly (production) offers only the __Secure- name: browsers refuse to set that
// name without HTTPS and a Secure attribute, so a plain-named cookie planted by a
// sibling subdomain or over HTTP cannot stand in for it.
func CookieNames(prefix string, secureOnly bool) []string {
	if prefix == "" {
		prefix = DefaultCookiePrefix
	}
	name := prefix + ".session_token"
	if secureOnly {
		return []string{securePrefix + name}
	}
	return []string{securePrefix + name, name}
}
