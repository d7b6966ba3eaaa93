package betterauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/url"
	"strings"
)

const (
	// MaxTokenLength bounds the session token so garbage never reaches the database in
	// bulk; Better Auth's tokens are 32 characters.
	MaxTokenLength = 255
	// signatureLength is base64std of a 32-byte HMAC-SHA256: 43 characters and one "=".
	signatureLength = 44
	// maxRawLength is the longest encoded value that can decode to an acceptable one:
	// every decoded byte takes at most three encoded bytes ("%XX"). Checking it before
	// decoding keeps the work per request bounded.
	maxRawLength = 3 * (MaxTokenLength + 1 + signatureLength)
)

// keyedHMAC is HMAC-SHA256 with key already absorbed: each verification clones it instead
// of processing the key again.
func keyedHMAC(key []byte) hash.Cloner {
	return hmac.New(sha256.New, key).(hash.Cloner)
}

// strictBase64 rejects non-zero padding bits, so each valid signature has exactly one
// spelling and a tampered last character cannot decode to the same bytes.
var strictBase64 = base64.StdEncoding.Strict()

// verifySigned checks a value of the form token "." base64std(HMAC-SHA256(key, token)),
// possibly %-encoded, and returns the token only if the signature is right. It decodes
// exactly once, as Better Auth does, so a double-encoded value fails.
func verifySigned(keyed hash.Cloner, raw string) (token string, err error) {
	token, sig, err := parseSigned(raw)
	if err != nil {
		return "", err
	}
	mac, err := keyed.Clone()
	if err != nil {
		return "", errSignatureMismatch // cannot happen: the standard library's HMAC clones
	}
	mac.Write([]byte(token))
	// hmac.Equal is constant time; it is the only place a signature is compared.
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return "", errSignatureMismatch
	}
	return token, nil
}

// parseSigned splits a signed value into its token and decoded signature bytes, checking
// only the shape, not the signature.
func parseSigned(raw string) (token string, sig []byte, err error) {
	if raw == "" {
		return "", nil, errNoCredential
	}
	if len(raw) > maxRawLength {
		return "", nil, errTooLong
	}
	// PathUnescape, not QueryUnescape: a raw "+" in base64 must stay "+". The unescape
	// error quotes the input, so it is replaced by a constant one.
	decoded, uerr := url.PathUnescape(raw)
	if uerr != nil {
		return "", nil, errBadEscape
	}
	// The token could in principle contain ".", the signature never does: split at the
	// last one, like better-call's getSignedCookie.
	dot := strings.LastIndexByte(decoded, '.')
	if dot < 0 {
		// A bare token is what Better Auth's bearer plugin signs for the caller unless
		// requireSignature is set; we always require the signature.
		return "", nil, errNoSignature
	}
	token, sigText := decoded[:dot], decoded[dot+1:]
	if !validToken(token) {
		return "", nil, errTokenFormat
	}
	sig, ok := decodeSignature(sigText)
	if !ok {
		return "", nil, errSignatureFormat
	}
	return token, sig, nil
}

// decodeSignature accepts exactly what Better Auth emits: 44 characters of standard
// base64 ending in "=" that decode to the 32 bytes of an HMAC-SHA256.
func decodeSignature(s string) ([]byte, bool) {
	if len(s) != signatureLength || s[len(s)-1] != '=' {
		return nil, false
	}
	// The decoder silently skips '\r' and '\n'; refuse anything outside the alphabet
	// instead of letting such characters shorten the signature.
	for i := 0; i < len(s); i++ {
		if !isBase64Char(s[i]) {
			return nil, false
		}
	}
	sig, err := strictBase64.DecodeString(s)
	if err != nil || len(sig) != sha256.Size {
		return nil, false
	}
	return sig, true
}

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '+' || c == '/' || c == '='
}

// validToken keeps what goes to the database to bounded, printable ASCII: that is also
// valid UTF-8 without NUL, so PostgreSQL cannot fail on it and turn garbage into a 503.
// Better Auth's own tokens are 32 characters of [A-Za-z0-9].
func validToken(t string) bool {
	if t == "" || len(t) > MaxTokenLength {
		return false
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// SignValue returns the session cookie value Better Auth would set for token:
// encodeURIComponent(SignToken(secret, token)). The service never issues sessions; this
// exists so tests and tooling sign exactly like Better Auth.
func SignValue(secret, token string) string {
	return encodeURIComponent(SignToken(secret, token))
}

// SignToken returns token + "." + base64std(HMAC-SHA256(secret, token)), not URL-encoded:
// what Better Auth's bearer plugin hands out.
func SignToken(secret, token string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token))
	return token + "." + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// encodeURIComponent is JavaScript's: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is
// %-encoded byte by byte (UTF-8). Go's url escapers differ on "+", "=" and " ".
func encodeURIComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}
