package betterauth

import (
	"errors"
	"math"
	"unicode/utf16"
)

// MinSecretLength is the shortest secret we accept. Better Auth only warns below 32
// characters; we refuse, because the secret is the whole strength of the signature.
const MinSecretLength = 32

// MinSecretEntropyBits is Better Auth's own line for a low-entropy secret (see
// estimatedEntropyBits). Better Auth only warns below it; we refuse.
const MinSecretEntropyBits = 120

// defaultSecret is what Better Auth signs with when no secret is configured. It is public,
// so anyone could forge sessions for a deployment that uses it.
const defaultSecret = "better-auth-secret-12345678901234567890"

// ValidateSecret refuses secrets that make session signatures forgeable. Its errors never
// contain the secret, so they are safe to log at boot.
func ValidateSecret(secret string) error {
	if secret == "" {
		return errors.New("betterauth: secret is empty (set BETTER_AUTH_SECRET or BETTER_AUTH_SECRETS)")
	}
	if weak := weakness(secret); weak != "" {
		return errors.New("betterauth: secret " + weak)
	}
	return nil
}

// weakness says what makes a non-empty secret forgeable, or "" when nothing does.
func weakness(secret string) string {
	switch {
	case len(secret) < MinSecretLength:
		return "is shorter than 32 bytes"
	case secret == defaultSecret: // public constant, so timing reveals nothing
		return "is Better Auth's public built-in default"
	case estimatedEntropyBits(secret) < MinSecretEntropyBits:
		return "has low entropy (under 120 bits by Better Auth's estimate); use a randomly generated one, e.g. openssl rand -base64 32"
	}
	return ""
}

// estimatedEntropyBits is Better Auth's estimate of a secret's strength, computed as it
// computes it (better-auth 1.7.25, estimateEntropy in context/secret-utils and
// context/create-context): log2(distinct^length), i.e. length × log2(number of distinct
// characters), where length counts UTF-16 code units (String.length) and distinct counts
// code points (new Set(str)). A string of one repeated character scores 0. Invalid UTF-8
// counts as U+FFFD, as Node decodes the environment.
func estimatedEntropyBits(secret string) float64 {
	distinct := map[rune]struct{}{}
	units := 0
	for _, r := range secret {
		distinct[r] = struct{}{}
		units += utf16.RuneLen(r)
	}
	if len(distinct) == 0 {
		return 0
	}
	return math.Log2(math.Pow(float64(len(distinct)), float64(units)))
}
