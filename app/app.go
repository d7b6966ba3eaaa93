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
}

type Queries struct {
	ListAccounts query.ListAccountsHandler
}

// New builds every use case over the same ports.
func New(tx ports.Transactor, clock ports.Clock) Application {
	return Application{
		Commands: Commands{
			CreateAccount:      command.NewCreateAccountHandler(tx, clock),
			GetOrCreateAccount: command.NewGetOrCreateAccountHandler(tx, clock),
		},
		Queries: Queries{
			ListAccounts: query.NewListAccountsHandler(tx),
		},
	}
}
