package httpadapter

import (
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain/credential"
)

// Credential is the contract's credential object: metadata only. There is deliberately
// no field that could carry a key or secret out.
type Credential struct {
	ID             string `json:"id"`
	AccountID      string `json:"account_id"`
	CredentialType string `json:"credential_type"`
	Environment    string `json:"environment"`
	Nickname       string `json:"nickname"`
	IsActive       bool   `json:"is_active"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

func toCredential(c credential.Credential) Credential {
	return Credential{
		ID:             c.ID().String(),
		AccountID:      c.AccountID().String(),
		CredentialType: c.Type().String(),
		Environment:    c.Environment().String(),
		Nickname:       c.Nickname().String(),
		IsActive:       c.Active(),
		CreatedAt:      formatTime(c.CreatedAt()),
		UpdatedAt:      formatTime(c.UpdatedAt()),
	}
}

// CredentialList is the body of GET /api/credentials: one page, and the cursor of the next
// (null after the last).
type CredentialList struct {
	Status      string       `json:"status"`
	Credentials []Credential `json:"credentials"`
	Count       int          `json:"count"`
	NextCursor  *string      `json:"next_cursor"`
}

// StoreCredentialRequest is the body of POST /api/credentials/store.
type StoreCredentialRequest struct {
	AccountID      string  `json:"account_id"`
	CredentialType string  `json:"credential_type"`
	Environment    string  `json:"environment"`
	APIKey         string  `json:"api_key"`
	SecretKey      string  `json:"secret_key"`
	Nickname       *string `json:"nickname"`
}

// UpdateCredentialRequest is the body of PUT /api/credentials/{id}; absent fields stay.
type UpdateCredentialRequest struct {
	APIKey    *string `json:"api_key"`
	SecretKey *string `json:"secret_key"`
	IsActive  *bool   `json:"is_active"`
	Nickname  *string `json:"nickname"`
}

// ValidationResult is the body of POST /api/credentials/{id}/validate.
type ValidationResult struct {
	IsValid     bool    `json:"is_valid"`
	Message     string  `json:"message"`
	AccountType *string `json:"account_type"`
}

func toValidationResult(v query.Validation) ValidationResult {
	out := ValidationResult{IsValid: v.Valid, Message: v.Message}
	if v.Environment != nil {
		env := v.Environment.String()
		out.AccountType = &env
	}
	return out
}

// AccountData is the body of GET /api/credentials/{id}/account-data. Money stays the
// decimal strings the broker sent.
type AccountData struct {
	AccountType      string `json:"account_type"`
	Balance          string `json:"balance"`
	Equity           string `json:"equity"`
	BuyingPower      string `json:"buying_power"`
	Currency         string `json:"currency"`
	TradingBlocked   bool   `json:"trading_blocked"`
	AccountBlocked   bool   `json:"account_blocked"`
	PatternDayTrader bool   `json:"pattern_day_trader"`
	DaytradeCount    int    `json:"daytrade_count"`
	LastUpdated      string `json:"last_updated"`
}

func toAccountData(d query.BrokerAccountData) AccountData {
	a := d.Account
	return AccountData{
		AccountType:      d.Environment.String(),
		Balance:          a.Cash,
		Equity:           a.Equity,
		BuyingPower:      a.BuyingPower,
		Currency:         a.Currency,
		TradingBlocked:   a.TradingBlocked,
		AccountBlocked:   a.AccountBlocked,
		PatternDayTrader: a.PatternDayTrader,
		DaytradeCount:    a.DaytradeCount,
		LastUpdated:      formatTime(d.RetrievedAt),
	}
}
