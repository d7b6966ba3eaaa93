package betterauth

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/ports"
)

// FuzzVerify feeds arbitrary cookie and bearer values. Whatever comes in, Verify must not
// panic; a refusal must be one of the constant reasons; and an acceptance must be a value
// whose decoded form is exactly token "." base64std(HMAC), as recomputed here
// independently, handing on exactly that token.
func FuzzVerify(f *testing.F) {
	for _, seed := range [][2]string{
		{realCookie1, ""},
		{realCookie2, ""},
		{"", realToken1 + "." + realSig1},
		{"garbage", realCookie2},
		{realToken1, ""},
		{"", realToken1},
		{strings.ReplaceAll(realCookie1, "%", "%25"), ""},
		{realCookie1 + "%zz", ""},
		{"." + realSig1, ""},
		{"a.b.c." + realSig1, " "},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, cookie, bearer string) {
		v, err := NewVerifier(testSecret)
		require.NoError(t, err)

		s, err := v.Verify(ports.SessionProof{Cookie: cookie, Bearer: bearer})
		if err != nil {
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			require.True(t, s.IsZero())
			require.True(t, isConstantRefusal(err), "unexpected error text %q", err)
			return
		}

		raw := cookie
		if bearer != "" {
			raw = strings.Trim(bearer, " \t")
		}
		token := s.Token()
		decoded, uerr := url.PathUnescape(raw)
		require.NoError(t, uerr)
		require.Equal(t, token+"."+sigOf(testSecret, token), decoded, "accepted a value whose signature does not match")
	})
}

// isConstantRefusal reports whether err is exactly one of the package's fixed refusal
// texts, which proves no input bytes made it into the message.
func isConstantRefusal(err error) bool {
	for _, source := range []string{"cookie", "bearer"} {
		for _, r := range refusals {
			if err.Error() == "betterauth: "+source+": "+r.Error() {
				return true
			}
		}
	}
	return false
}
