package httpadapter

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/brokerly/accounts/app/command"
	"github.com/brokerly/accounts/app/query"
	"github.com/brokerly/accounts/domain"
)

// storeCredential: POST /api/credentials/store.
func (s *Server) storeCredential(c *fiber.Ctx) error {
	var req StoreCredentialRequest
	if err := decodeJSON(c, &req, false); err != nil {
		return err
	}
	cred, err := s.uc.Commands.StoreCredential.Handle(c.UserContext(), command.StoreCredential{
		Session:        sessionOf(c),
		AccountID:      req.AccountID,
		CredentialType: req.CredentialType,
		Environment:    req.Environment,
		APIKey:         req.APIKey,
		SecretKey:      req.SecretKey,
		Nickname:       req.Nickname,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(toCredential(cred))
}

// listCredentials: GET /api/credentials?account_id=...&limit=...&cursor=...
func (s *Server) listCredentials(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	page, err := s.uc.Queries.ListCredentials.Handle(c.UserContext(), query.ListCredentials{
		Session:   sessionOf(c),
		AccountID: strings.Clone(c.Query("account_id")),
		Limit:     limit,
		Cursor:    strings.Clone(c.Query("cursor")),
	})
	if err != nil {
		return err
	}
	out := CredentialList{Status: "success", Credentials: make([]Credential, 0, len(page.Credentials)), Count: len(page.Credentials)}
	for _, cred := range page.Credentials {
		out.Credentials = append(out.Credentials, toCredential(cred))
	}
	if !page.Next.IsZero() {
		next := page.Next.String()
		out.NextCursor = &next
	}
	return c.JSON(out)
}

// queryInt reads an optional integer query parameter; present but not an integer is a
// validation error for it.
func queryInt(c *fiber.Ctx, name string) (*int, error) {
	raw := c.Query(name)
	if raw == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return nil, domain.Invalid(name, "must be an integer")
	}
	return &n, nil
}

// updateCredential: PUT /api/credentials/{id}.
func (s *Server) updateCredential(c *fiber.Ctx) error {
	var req UpdateCredentialRequest
	if err := decodeJSON(c, &req, false); err != nil {
		return err
	}
	cred, err := s.uc.Commands.UpdateCredential.Handle(c.UserContext(), command.UpdateCredential{
		Session:      sessionOf(c),
		CredentialID: credentialID(c),
		APIKey:       req.APIKey,
		SecretKey:    req.SecretKey,
		Active:       req.IsActive,
		Nickname:     req.Nickname,
	})
	if err != nil {
		return err
	}
	return c.JSON(toCredential(cred))
}

// deleteCredential: DELETE /api/credentials/{id}.
func (s *Server) deleteCredential(c *fiber.Ctx) error {
	err := s.uc.Commands.DeleteCredential.Handle(c.UserContext(), command.DeleteCredential{
		Session:      sessionOf(c),
		CredentialID: credentialID(c),
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// validateCredential: POST /api/credentials/{id}/validate. It takes no input; a body that
// is sent must still be a JSON object sent as JSON.
func (s *Server) validateCredential(c *fiber.Ctx) error {
	var req struct{}
	if err := decodeJSON(c, &req, true); err != nil {
		return err
	}
	v, err := s.uc.Queries.ValidateCredential.Handle(c.UserContext(), query.ValidateCredential{
		Session:      sessionOf(c),
		CredentialID: credentialID(c),
	})
	if err != nil {
		return err
	}
	return c.JSON(toValidationResult(v))
}

// accountData: GET /api/credentials/{id}/account-data.
func (s *Server) accountData(c *fiber.Ctx) error {
	d, err := s.uc.Queries.AccountData.Handle(c.UserContext(), query.AccountData{
		Session:      sessionOf(c),
		CredentialID: credentialID(c),
	})
	if err != nil {
		return err
	}
	return c.JSON(toAccountData(d))
}

// credentialID copies the path parameter: Fiber reuses its buffer after the handler.
func credentialID(c *fiber.Ctx) string { return strings.Clone(c.Params("id")) }
