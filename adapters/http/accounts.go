package httpadapter

import (
	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
)

// listAccounts: GET /api/accounts, the caller's accounts, newest first.
func (s *Server) listAccounts(c *fiber.Ctx) error {
	accs, err := s.uc.Queries.ListAccounts.Handle(c.UserContext(), query.ListAccounts{Session: sessionOf(c)})
	if err != nil {
		return err
	}
	out := AccountList{Status: "success", Accounts: make([]UserAccount, 0, len(accs)), Count: len(accs)}
	for _, a := range accs {
		out.Accounts = append(out.Accounts, toUserAccount(a))
	}
	return c.JSON(out)
}

// createAccount: POST /api/accounts, the caller's one account.
func (s *Server) createAccount(c *fiber.Ctx) error {
	var req CreateAccountRequest
	if err := decodeJSON(c, &req, false); err != nil {
		return err
	}
	acc, err := s.uc.Commands.CreateAccount.Handle(c.UserContext(), command.CreateAccount{
		Session: sessionOf(c),
		Name:    req.AccountName,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toUserAccount(acc))
}

// getOrCreateAccount: POST /api/accounts/get-or-create. It takes no input, but a body that
// is sent must still be a JSON object sent as JSON, like every other write.
func (s *Server) getOrCreateAccount(c *fiber.Ctx) error {
	var req struct{}
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	acc, created, err := s.uc.Commands.GetOrCreateAccount.Handle(c.UserContext(), command.GetOrCreateAccount{Session: sessionOf(c)})
	if err != nil {
		return err
	}
	return c.JSON(GetOrCreateResult{Account: toUserAccount(acc), Created: created})
}
