package betterauth

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/brokerly/accounts/ports"
)

func newTestVerifier(t *testing.T) *Verifier {
	t.Helper()
	v, err := NewVerifier(testSecret)
	require.NoError(t, err)
	return v
}

func TestVerify_Accepts(t *testing.T) {
	rawSigned := realToken1 + "." + realSig1 // what set-auth-token carries: raw +/=
	tests := []struct {
		name      string
		proof     ports.SessionProof
		wantToken string
	}{
		{"real cookie 1, URL-encoded as browsers send it", ports.SessionProof{Cookie: realCookie1}, realToken1},
		{"real cookie 2, URL-encoded", ports.SessionProof{Cookie: realCookie2}, realToken2},
		{"cookie built like Better Auth", ports.SessionProof{Cookie: betterAuthCookie(testSecret, realToken2)}, realToken2},
		{"cookie with raw +/=", ports.SessionProof{Cookie: rawSigned}, realToken1},
		{"cookie with lowercase %-escapes", ports.SessionProof{Cookie: strings.NewReplacer("%2F", "%2f", "%3D", "%3d").Replace(realCookie1)}, realToken1},
		{"bearer raw", ports.SessionProof{Bearer: rawSigned}, realToken1},
		{"bearer %-encoded", ports.SessionProof{Bearer: realCookie1}, realToken1},
		{"bearer with surrounding whitespace", ports.SessionProof{Bearer: " \t" + rawSigned + " "}, realToken1},
		{"bearer wins over a valid cookie", ports.SessionProof{Bearer: realCookie2, Cookie: realCookie1}, realToken2},
		{"bearer wins over a garbage cookie", ports.SessionProof{Bearer: realCookie1, Cookie: "garbage"}, realToken1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newTestVerifier(t).Verify(tt.proof)
			require.NoError(t, err)
			require.Equal(t, tt.wantToken, s.Token(), "the bare token, for the database to resolve")
			_, resolved := s.User()
			require.False(t, resolved, "a signature alone says nothing about whose session it is")
		})
	}
}

func TestVerify_Refuses(t *testing.T) {
	const otherSecret = "another-secret-of-sufficient-length-0123456789"
	flip := func(s string, i int) string { // a different base64 character at i
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	// The 43rd character carries 4 signature bits and 2 padding bits; changing only a
	// padding bit decodes leniently to the same bytes, so it must be refused as non-canonical.
	paddingBit := func(sig string) string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		b := []byte(sig)
		b[42] = alphabet[strings.IndexByte(alphabet, b[42])^1]
		return string(b)
	}
	enc := jsURIEncoder.Replace
	long := strings.Repeat("a", MaxTokenLength+1)

	tests := []struct {
		name  string
		proof ports.SessionProof
		want  error
	}{
		{"nothing presented", ports.SessionProof{}, errNoCredential},
		{"empty cookie", ports.SessionProof{Cookie: ""}, errNoCredential},
		{"garbage cookie", ports.SessionProof{Cookie: "garbage"}, errNoSignature},
		{"garbage with a dot", ports.SessionProof{Cookie: "not.a-signature"}, errSignatureFormat},
		{"missing .sig", ports.SessionProof{Cookie: realToken1}, errNoSignature},
		{"empty signature", ports.SessionProof{Cookie: realToken1 + "."}, errSignatureFormat},
		{"flipped first signature char", ports.SessionProof{Cookie: enc(realToken1 + "." + flip(realSig1, 0))}, errSignatureMismatch},
		{"flipped last signature data char", ports.SessionProof{Cookie: enc(realToken1 + "." + flip(realSig1, 42))}, errSignatureMismatch},
		{"non-canonical padding bits", ports.SessionProof{Cookie: enc(realToken1 + "." + paddingBit(realSig1))}, errSignatureFormat},
		{"43-char signature", ports.SessionProof{Cookie: enc(realToken1 + "." + realSig1[:42] + "=")}, errSignatureFormat},
		{"45-char signature", ports.SessionProof{Cookie: enc(realToken1 + "." + "A" + realSig1)}, errSignatureFormat},
		{"signature without trailing =", ports.SessionProof{Cookie: enc(realToken1 + "." + realSig1[:43] + "A")}, errSignatureFormat},
		{"url-safe base64 signature", ports.SessionProof{Cookie: realToken1 + "." + strings.NewReplacer("+", "-", "/", "_").Replace(realSig1)}, errSignatureFormat},
		{"newline inside signature", ports.SessionProof{Cookie: enc(realToken1+"."+realSig1[:20]) + "%0A" + enc(realSig1[21:])}, errSignatureFormat},
		{"signature from another secret", ports.SessionProof{Cookie: betterAuthCookie(otherSecret, realToken1)}, errSignatureMismatch},
		{"Better Auth default secret", ports.SessionProof{Cookie: betterAuthCookie(defaultSecret, realToken1)}, errSignatureMismatch},
		{"altered token", ports.SessionProof{Cookie: "Y" + realCookie1[1:]}, errSignatureMismatch},
		{"token of another cookie", ports.SessionProof{Cookie: realToken2 + realCookie1[len(realToken1):]}, errSignatureMismatch},
		{"double-encoded", ports.SessionProof{Cookie: strings.ReplaceAll(realCookie1, "%", "%25")}, errSignatureFormat},
		{"invalid %-escape", ports.SessionProof{Cookie: realCookie1 + "%zz"}, errBadEscape},
		{"truncated %-escape", ports.SessionProof{Cookie: realCookie1[:len(realCookie1)-2]}, errBadEscape},
		{"empty token", ports.SessionProof{Cookie: "." + enc(sigOf(testSecret, ""))}, errTokenFormat},
		{"token with a space", ports.SessionProof{Cookie: betterAuthCookie(testSecret, "ab cd")}, errTokenFormat},
		{"token with a semicolon", ports.SessionProof{Cookie: "ab%3Bcd." + enc(sigOf(testSecret, "ab;cd"))}, errTokenFormat},
		{"token with NUL", ports.SessionProof{Cookie: "ab%00cd." + enc(sigOf(testSecret, "ab\x00cd"))}, errTokenFormat},
		{"token not ASCII", ports.SessionProof{Cookie: "%C3%A9." + enc(sigOf(testSecret, "é"))}, errTokenFormat},
		{"validly signed overlong token", ports.SessionProof{Cookie: betterAuthCookie(testSecret, long)}, errTokenFormat},
		{"overlong value", ports.SessionProof{Cookie: strings.Repeat("%41", 1000) + "." + enc(realSig1)}, errTooLong},
		{"bare bearer token", ports.SessionProof{Bearer: realToken1}, errNoSignature},
		{"bare bearer token beside a valid cookie", ports.SessionProof{Bearer: realToken1, Cookie: realCookie1}, errNoSignature},
		{"bad bearer does not fall back to the cookie", ports.SessionProof{Bearer: enc(realToken1 + "." + flip(realSig1, 0)), Cookie: realCookie1}, errSignatureMismatch},
		{"whitespace-only bearer", ports.SessionProof{Bearer: "  ", Cookie: realCookie1}, errNoCredential},
		{"double-encoded bearer", ports.SessionProof{Bearer: strings.ReplaceAll(realCookie1, "%", "%25")}, errSignatureFormat},
		{"bearer signed by another secret", ports.SessionProof{Bearer: realToken1 + "." + sigOf(otherSecret, realToken1)}, errSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newTestVerifier(t).Verify(tt.proof)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			require.ErrorIs(t, err, tt.want)
			require.True(t, s.IsZero())
			requireNoLeak(t, err, tt.proof)
		})
	}
}

func TestNewVerifier(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		wantErr string
	}{
		{"valid", testSecret, ""},
		{"empty secret", "", "empty"},
		{"short secret", "too-short", "shorter than 32 bytes"},
		{"default secret", defaultSecret, "built-in default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.secret)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, v)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, v)
		})
	}
}

// A Verifier not made by NewVerifier has no key; with an empty HMAC key anyone could sign,
// so it must refuse everything and not panic.
func TestVerify_UnconfiguredVerifierFailsClosed(t *testing.T) {
	emptyKey := sigOf("", realToken1)
	tests := []struct {
		name string
		v    *Verifier
	}{
		{"nil pointer", nil},
		{"zero value", &Verifier{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.v.Verify(ports.SessionProof{Bearer: realToken1 + "." + emptyKey})
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			require.True(t, s.IsZero())
		})
	}
}

func TestVerifier_FormatRedactsSecret(t *testing.T) {
	v := newTestVerifier(t)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
		out := fmt.Sprintf(verb, v) + fmt.Sprintf(verb, *v)
		require.NotContains(t, out, testSecret, verb)
		require.NotContains(t, out, fmt.Sprintf("%x", testSecret), verb)
		require.Contains(t, out, "redacted", verb)
	}
}

// requireNoLeak checks that an error text carries neither the presented value, nor its
// token or signature (decoded or not), nor the secret.
func requireNoLeak(t *testing.T, err error, proof ports.SessionProof) {
	t.Helper()
	msg := err.Error()
	require.NotContains(t, msg, testSecret)
	for _, s := range []string{proof.Cookie, proof.Bearer, realToken1, realToken2, realSig1, realSig2,
		strings.TrimSuffix(realCookie1, "%3D")[len(realToken1)+1:]} {
		if len(s) >= 8 { // shorter strings could match the constant reasons by chance
			require.NotContains(t, msg, s)
		}
	}
}
