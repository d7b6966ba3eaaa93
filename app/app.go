// Package app holds the use cases. They depend on ports only, so every one of them runs
// unchanged on the in-memory adapters in tests and on PostgreSQL in production.
package app

import (
	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/ports"
)

// Application groups the use cases the inbound adapters may call.
type Application struct {
	Commands Commands
	Queries  Queries
}

type Commands struct {
	CreateAccount      command.CreateAccountHandler
	GetOrCreateAccount command.GetOrCreateAccountHandler
	StoreCredential    command.StoreCredentialHandler
	UpdateCredential   command.UpdateCredentialHandler
	DeleteCredential   command.DeleteCredentialHandler
}

type Queries struct {
	ListAccounts       query.ListAccountsHandler
	ListCredentials    query.ListCredentialsHandler
	ValidateCredential query.ValidateCredentialHandler
	AccountData        query.AccountDataHandler
}

// Deps are the ports the use cases run on.
type Deps struct {
	Tx     ports.Transactor
	Cipher ports.Cipher
	Broker ports.Broker
	Clock  ports.Clock
}

// New builds every use case over the same ports.
func New(d Deps) Application {
	return Application{
		Commands: Commands{
			CreateAccount:      command.NewCreateAccountHandler(d.Tx, d.Clock),
			GetOrCreateAccount: command.NewGetOrCreateAccountHandler(d.Tx, d.Clock),
			StoreCredential:    command.NewStoreCredentialHandler(d.Tx, d.Cipher, d.Clock),
			UpdateCredential:   command.NewUpdateCredentialHandler(d.Tx, d.Cipher, d.Clock),
			DeleteCredential:   command.NewDeleteCredentialHandler(d.Tx),
		},
		Queries: Queries{
			ListAccounts:       query.NewListAccountsHandler(d.Tx),
			ListCredentials:    query.NewListCredentialsHandler(d.Tx),
			ValidateCredential: query.NewValidateCredentialHandler(d.Tx, d.Cipher, d.Broker),
			AccountData:        query.NewAccountDataHandler(d.Tx, d.Cipher, d.Broker, d.Clock),
		},
	}
}
