// Package app holds the use cases. They depend on ports only, so every one of them runs
// unchanged on the in-memory adapters in tests and on PostgreSQL in production.
package app

import (
	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain/credential"
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
	CheckSession       query.CheckSessionHandler
	ListAccounts       query.ListAccountsHandler
	ListCredentials    query.ListCredentialsHandler
	ValidateCredential query.ValidateCredentialHandler
	AccountData        query.AccountDataHandler
	CredentialEvents   query.CredentialEventsHandler
}

// Deps are the ports the use cases run on.
type Deps struct {
	Sessions     ports.Sessions
	Accounts     ports.AccountRepository
	Credentials  ports.CredentialRepository
	Trail        ports.CredentialTrail
	Cipher       ports.Cipher
	Broker       ports.Broker
	BrokerBudget ports.BrokerBudget
	Clock        ports.Clock
	// CredentialsPerAccount caps the credentials one account may hold (zero:
	// credential.DefaultPerAccount).
	CredentialsPerAccount int
}

// New builds every use case over the same ports.
func New(d Deps) Application {
	if d.CredentialsPerAccount == 0 {
		d.CredentialsPerAccount = credential.DefaultPerAccount
	}
	return Application{
		Commands: Commands{
			CreateAccount:      command.NewCreateAccountHandler(d.Accounts, d.Clock),
			GetOrCreateAccount: command.NewGetOrCreateAccountHandler(d.Accounts, d.Clock),
			StoreCredential:    command.NewStoreCredentialHandler(d.Credentials, d.Cipher, d.Clock, d.CredentialsPerAccount),
			UpdateCredential:   command.NewUpdateCredentialHandler(d.Credentials, d.Cipher, d.Clock),
			DeleteCredential:   command.NewDeleteCredentialHandler(d.Credentials),
		},
		Queries: Queries{
			CheckSession:       query.NewCheckSessionHandler(d.Sessions),
			ListAccounts:       query.NewListAccountsHandler(d.Accounts),
			ListCredentials:    query.NewListCredentialsHandler(d.Credentials),
			ValidateCredential: query.NewValidateCredentialHandler(d.Credentials, d.Trail, d.Cipher, d.Broker, d.BrokerBudget),
			AccountData:        query.NewAccountDataHandler(d.Credentials, d.Trail, d.Cipher, d.Broker, d.BrokerBudget, d.Clock),
			CredentialEvents:   query.NewCredentialEventsHandler(d.Trail),
		},
	}
}
