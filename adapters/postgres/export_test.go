package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/brokerly/accounts/domain/user"
)

// ErrRollback ends a transaction opened by the hooks below without committing anything.
var ErrRollback = errors.New("rollback")

// AsUser exposes the chokepoint below the ports, so the external tests can run raw SQL with
// exactly the setup every repository call gets: BEGIN and the session context statement
// go out first, then fn runs on the same connection. fn's error (or ErrRollback) rolls back.
func (db *DB) AsUser(ctx context.Context, s user.Session, fn func(ctx context.Context, q *pgx.Conn) error) error {
	return db.asScope(ctx, asUser(s), fn)
}

// AsRotator is AsUser for key rotation's scope.
func (db *DB) AsRotator(ctx context.Context, fn func(ctx context.Context, q *pgx.Conn) error) error {
	return db.asScope(ctx, asRotator, fn)
}

// AsNobody is AsUser for accounts_app without a user: the audit's probe.
func (db *DB) AsNobody(ctx context.Context, fn func(ctx context.Context, q *pgx.Conn) error) error {
	return db.asScope(ctx, asNobody, fn)
}

func (db *DB) asScope(ctx context.Context, sc scope, fn func(ctx context.Context, q *pgx.Conn) error) error {
	return db.transact(ctx, sc, oneTx, func(ctx context.Context, tx *txn) error {
		if err := tx.run(ctx, "begin"); err != nil {
			return err
		}
		return fn(ctx, tx.conn)
	})
}

// Raw lends fn a pooled connection as the login role, outside any transaction.
func (db *DB) Raw(ctx context.Context, fn func(ctx context.Context, q *pgx.Conn) error) error {
	conn, err := db.acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return fn(ctx, conn.Conn())
}

// AuditRLSForRoles exposes the audit with its role list, for a test with a scratch role.
var AuditRLSForRoles = auditRLS

// Translate exposes the error mapping to the table-driven test.
var Translate = translate

// The role names as the catalogs spell them.
const (
	AppRole     = string(appRole)
	RotatorRole = string(rotatorRole)
)

// The statements the plan tests explain.
// SessionContextSQL is the session context statement db runs now.
func SessionContextSQL(db *DB) string { return db.session.Load().sql[eachRun] }

// GenericSessionContextSQL is the statement for tables the service has not read.
var GenericSessionContextSQL = genericStatements.sql[eachRun]

const (
	ListAccountsSQL    = listAccountsSQL
	ListCredentialsSQL = listCredentialsSQL
)

// Hold borrows a connection through the helper's own acquire (with its timeout) and
// returns the function that gives it back.
func (db *DB) Hold(ctx context.Context) (release func(), err error) {
	conn, err := db.acquire(ctx)
	if err != nil {
		return nil, err
	}
	return conn.Release, nil
}
