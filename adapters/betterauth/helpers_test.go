package betterauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// testSecret signed the real cookies of docs/better-auth.md.
const testSecret = "test-only-secret-not-for-production-0123456789abcdef"

// Two cookies Better Auth 1.7.25 really set, and their parts.
const (
	realCookie1 = "XJExhSwEy7z0ziwe8LeXknpAioQkAQLh.%2FxXogZdy6DBnDBXTmckAxf72lTd4DyFBwLzTdXfGHSI%3D"
	realToken1  = "XJExhSwEy7z0ziwe8LeXknpAioQkAQLh"
	realSig1    = "/xXogZdy6DBnDBXTmckAxf72lTd4DyFBwLzTdXfGHSI="
	realCookie2 = "oWFzVFJ68XCX4FLouF24nZljUJjf4KP4.NLipG2sg5nJaTpI6ZdE2eFWIba32F0Dpdxy8Qz0UHfk%3D"
	realToken2  = "oWFzVFJ68XCX4FLouF24nZljUJjf4KP4"
	realSig2    = "NLipG2sg5nJaTpI6ZdE2eFWIba32F0Dpdxy8Qz0UHfk="
)

// sigOf is base64std(HMAC-SHA256(secret, token)), written out independently of the
// package so the tests do not check the code against itself.
func sigOf(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// jsURIEncoder is encodeURIComponent restricted to what a token.sig value contains
// ([A-Za-z0-9], ".", and base64's "+/="), which is all a browser ever sends back.
var jsURIEncoder = strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D", "%", "%25")

// betterAuthCookie builds a value the way Better Auth does:
// encodeURIComponent(token + "." + base64std(hmac)).
func betterAuthCookie(secret, token string) string {
	return jsURIEncoder.Replace(token + "." + sigOf(secret, token))
}
