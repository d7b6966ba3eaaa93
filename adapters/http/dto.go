package httpadapter

import (
	"time"

	"github.com/brokerly/accounts/domain/account"
)

// timestampLayout is RFC 3339 in UTC with exactly six fractional digits, the microseconds
// PostgreSQL keeps, so equal instants always print equally (time.RFC3339Nano drops zeros).
const timestampLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timestampLayout) }

// UserAccount is the contract's account object.
type UserAccount struct {
	ID          string `json:"id"`
	UserID      string `json:"user_id"`
	AccountName string `json:"account_name"`
	IsActive    bool   `json:"is_active"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

func toUserAccount(a account.Account) UserAccount {
	return UserAccount{
		ID:          a.ID().String(),
		UserID:      a.Owner().String(),
		AccountName: a.Name().String(),
		IsActive:    a.Active(),
		CreatedAt:   formatTime(a.CreatedAt()),
		UpdatedAt:   formatTime(a.UpdatedAt()),
	}
}

// AccountList is the body of GET /api/accounts.
type AccountList struct {
	Status   string        `json:"status"`
	Accounts []UserAccount `json:"accounts"`
	Count    int           `json:"count"`
}

// GetOrCreateResult is the body of POST /api/accounts/get-or-create.
type GetOrCreateResult struct {
	Account UserAccount `json:"account"`
	Created bool        `json:"created"`
}

// CreateAccountRequest is the body of POST /api/accounts. It has no user or id field on
// purpose: those come from the session and the server.
type CreateAccountRequest struct {
	AccountName string `json:"account_name"`
}
