package betterauth

import "errors"

// MinSecretLength is the shortest secret we accept. Better Auth only warns below 32
// characters; we refuse, because the secret is the whole strength of the signature.
const MinSecretLength = 32

// defaultSecret is what Better Auth signs with when no secret is configured. It is public,
// so anyone could forge sessions for a deployment that uses it.
const defaultSecret = "better-auth-secret-12345678901234567890"

// ValidateSecret refuses secrets that make session signatures forgeable. Its errors never
// contain the secret, so they are safe to log at boot.
func ValidateSecret(secret string) error {
	switch {
	case secret == "":
		return errors.New("betterauth: secret is empty (set BETTER_AUTH_SECRET)")
	case len(secret) < MinSecretLength:
		return errors.New("betterauth: secret is shorter than 32 bytes")
	case secret == defaultSecret: // public constant, so timing reveals nothing
		return errors.New("betterauth: secret is Better Auth's public built-in default")
	}
	return nil
}
