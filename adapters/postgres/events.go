package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/brokerly/accounts/domain"
	"github.com/brokerly/accounts/domain/credential"
	"github.com/brokerly/accounts/domain/user"
	"github.com/brokerly/accounts/ports"
)

// eventFrom is the INSERT of one credential event per row of source, a CTE with the
// columns id, user_account_id and user_id of a credential (id may be NULL: a refused
// store). action and outcome are SQL expressions: a literal or a parameter.
// impersonated_by and created_at are the database's (migration 009).
func eventFrom(source, idParam, action, outcome, requestParam string) string {
	return `
	INSERT INTO credential_events (id, credential_id, account_id, user_id, action, outcome, request_id)
	SELECT ` + idParam + `, id, user_account_id, user_id, ` + action + `, ` + outcome + `, nullif(` + requestParam + `::text, '')
	FROM ` + source
}

// literal quotes one of the domain's fixed action or outcome names; never input.
func literal(v fmt.Stringer) string { return "'" + v.String() + "'" }

const (
	// The event names the credential's owner; the insert policy refuses any owner but the
	// session's user.
	recordEventSQL = `INSERT INTO credential_events (id, credential_id, account_id, user_id, action, outcome, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, nullif($7::text, ''))`
	// Keyset pages over credential_events_credential_idx; the page starts after the event
	// $3 (none: from the newest), wherever it sits in the order.
	listEventsSQL = `SELECT id, credential_id, account_id, user_id, action, outcome, request_id, impersonated_by, created_at
		FROM credential_events
		WHERE credential_id = $1 AND user_id = ` + currentUserSQL + `
		  AND ($3::uuid IS NULL OR (created_at, id) < (
		      SELECT created_at, id FROM credential_events
		      WHERE id = $3 AND credential_id = $1 AND user_id = ` + currentUserSQL + `))
		ORDER BY created_at DESC, id DESC LIMIT $2`
	// A credential has a trail for the user if it is theirs, or was: its events remain.
	trailExistsSQL = `SELECT EXISTS (SELECT 1 FROM user_credentials WHERE id = $1 AND user_id = ` + currentUserSQL + `)
		OR EXISTS (SELECT 1 FROM credential_events WHERE credential_id = $1 AND user_id = ` + currentUserSQL + `)`
)

// CredentialTrail implements ports.CredentialTrail.
type CredentialTrail struct{ db *DB }

var _ ports.CredentialTrail = (*CredentialTrail)(nil)

func NewCredentialTrail(db *DB) *CredentialTrail { return &CredentialTrail{db: db} }

// Record is one round trip. The row-level policy holds the event to the session's user
// and to the admin impersonating them, if any.
func (t *CredentialTrail) Record(ctx context.Context, s user.Session, c credential.Credential, action credential.Action, outcome credential.Outcome) error {
	return t.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "record credential event", &statement{sql: recordEventSQL, args: []any{
			newEventID(), uuidArg(c.ID()), uuidArg(c.AccountID()), c.Owner().String(),
			action.String(), outcome.String(), ports.RequestID(ctx)}})
	})
}

// Events is one round trip: the page, and whether the credential has a trail at all.
func (t *CredentialTrail) Events(ctx context.Context, s user.Session, credentialID domain.ID, page credential.EventPage) ([]credential.Event, bool, error) {
	out := []credential.Event{}
	exists := false
	var before pgtype.UUID
	if !page.Before.IsZero() {
		before = uuidArg(page.Before)
	}
	err := t.db.transact(ctx, asUser(s), eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "list credential events",
			&statement{sql: listEventsSQL, args: []any{uuidArg(credentialID), page.Size + 1, before}, read: readEvents(&out)},
			&statement{sql: trailExistsSQL, args: []any{uuidArg(credentialID)}, read: func(rows pgx.Rows) error {
				for rows.Next() {
					if err := rows.Scan(&exists); err != nil {
						return err
					}
				}
				return rows.Err()
			}})
	})
	switch {
	case err != nil:
		return nil, false, err
	case !exists:
		return nil, false, fmt.Errorf("credential %s: %w", credentialID, domain.ErrNotFound)
	case len(out) > page.Size:
		return out[:page.Size], true, nil
	}
	return out, false, nil
}

func readEvents(out *[]credential.Event) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			var (
				id, credID, accountID     pgtype.UUID
				owner, action, outcome    string
				requestID, impersonatedBy pgtype.Text
				at                        time.Time
			)
			if err := rows.Scan(&id, &credID, &accountID, &owner, &action, &outcome, &requestID, &impersonatedBy, &at); err != nil {
				return err
			}
			e, err := eventRow(id, credID, accountID, owner, action, outcome, requestID, impersonatedBy, at)
			if err != nil {
				return err
			}
			*out = append(*out, e)
		}
		return rows.Err()
	}
}

// eventRow checks what the schema cannot, so a corrupt row is an error, not an event.
func eventRow(id, credID, accountID pgtype.UUID, owner, action, outcome string, requestID, impersonatedBy pgtype.Text, at time.Time) (credential.Event, error) {
	e := credential.Event{ID: domain.ID(id.Bytes), AccountID: domain.ID(accountID.Bytes), RequestID: requestID.String, At: at}
	if credID.Valid {
		e.CredentialID = domain.ID(credID.Bytes)
	}
	var err error
	if e.Owner, err = user.ParseID(owner); err != nil {
		return credential.Event{}, fmt.Errorf("postgres: stored owner of event %s: %w", e.ID, err)
	}
	if e.Action, err = credential.ParseAction(action); err != nil {
		return credential.Event{}, fmt.Errorf("postgres: event %s: %w", e.ID, err)
	}
	if e.Outcome, err = credential.ParseOutcome(outcome); err != nil {
		return credential.Event{}, fmt.Errorf("postgres: event %s: %w", e.ID, err)
	}
	if impersonatedBy.Valid {
		if e.ImpersonatedBy, err = user.ParseID(impersonatedBy.String); err != nil {
			return credential.Event{}, fmt.Errorf("postgres: stored admin of event %s: %w", e.ID, err)
		}
	}
	return e, nil
}
