package query

import (
	"context"
	"fmt"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// ListCredentials returns a page of the credentials under one account, newest first.
// Another user's account simply has none that the caller can see.
type ListCredentials struct {
	Session   user.Session
	AccountID string
	Limit     *int   // nil: credential.DefaultPageSize
	Cursor    string // "" for the first page, else a previous page's Next
}

// CredentialPage is one page, and where the next one starts (zero at the end).
type CredentialPage struct {
	Credentials []credential.Credential
	Next        credential.Cursor
}

type ListCredentialsHandler struct {
	credentials ports.CredentialRepository
}

func NewListCredentialsHandler(credentials ports.CredentialRepository) ListCredentialsHandler {
	if credentials == nil {
		panic("query: ListCredentialsHandler needs a credential repository")
	}
	return ListCredentialsHandler{credentials: credentials}
}

// Handle fails with a *domain.ValidationError (each bad field named) for a malformed
// account id, a limit outside 1 to credential.MaxPageSize, or a cursor this service did not
// make.
func (h ListCredentialsHandler) Handle(ctx context.Context, q ListCredentials) (CredentialPage, error) {
	var errs []error
	accountID, err := domain.ParseID(q.AccountID)
	if err != nil {
		errs = append(errs, domain.Invalid("account_id", "must be a UUID"))
	}
	after, err := credential.ParseCursor(q.Cursor)
	if err != nil {
		errs = append(errs, err)
	}
	page, err := credential.NewPage(q.Limit, after)
	if err != nil {
		errs = append(errs, err)
	}
	if err := domain.Join(errs...); err != nil {
		return CredentialPage{}, err
	}
	creds, more, err := h.credentials.List(ctx, q.Session, accountID, page)
	if err != nil {
		return CredentialPage{}, fmt.Errorf("list credentials: %w", err)
	}
	out := CredentialPage{Credentials: creds}
	if more && len(creds) > 0 {
		out.Next = credential.CursorAfter(creds[len(creds)-1])
	}
	return out, nil
}
