package betterauth

import (
	"fmt"

	"github.com/brokerly/accounts/ports"
)

// Reasons a presented session is refused. Each wraps ports.ErrUnauthenticated so callers
// need not tell them apart, and each is a constant text, so no token, signature or
// secret can reach a log through them.
var (
	errNoCredential      = refusal("no session credential presented")
	errTooLong           = refusal("session value too long")
	errBadEscape         = refusal("session value is not validly %-encoded")
	errNoSignature       = refusal("session value carries no signature")
	errSignatureFormat   = refusal("signature is not 44 characters of standard base64")
	errTokenFormat       = refusal("session token is empty, too long or has forbidden characters")
	errSignatureMismatch = refusal("signature does not match")
)

// refusals lists every refusal, for tests that check no other text can come out.
var refusals = []error{
	errNoCredential, errTooLong, errBadEscape, errNoSignature, errSignatureFormat,
	errTokenFormat, errSignatureMismatch,
}

func refusal(reason string) error {
	return fmt.Errorf("%w: %s", ports.ErrUnauthenticated, reason)
}
