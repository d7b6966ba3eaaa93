package postgres

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Better Auth's admin plugin adds optional columns the context statement must honour:
// "user"."banned" and "banExpires" and "session"."impersonatedBy". The statement can read
// them two ways:
//
//   - generic: through to_jsonb of each row, which works whatever the tables hold, but
//     costs more than the rest of the statement (about 10 µs of the database's time per
//     row, measured on the benchmark machine);
//   - by name, for the columns the service has seen in the catalogs. The statement then
//     passes the column count it saw to accounts_session_shape_is (migration 011), which
//     the planner folds once per plan: any ALTER TABLE of either table invalidates the
//     plan, the guard runs again and refuses a changed table with SQLSTATE AC001 before
//     the statement reads a row. The service then looks again and retries.
//
// The generic statement is used until the catalogs have been read, and whenever they show
// something unexpected (a column of a type the plugin does not give it).

// sessionShape is what the context statement knows of Better Auth's tables.
type sessionShape struct {
	columns        int  // pg_class.relnatts of "user" and "session" together; only ever grows
	banned         bool // "user".banned boolean
	banExpires     bool // "user"."banExpires" timestamptz (or timestamp)
	impersonatedBy bool // "session"."impersonatedBy" text
}

// contextStatements are the session context statement's texts, by mode.
type contextStatements struct {
	sql   [2]string
	shape *sessionShape // nil: the generic statement
}

var genericStatements = &contextStatements{sql: [...]string{eachRun: genericSessionContext(eachRun), oneTx: genericSessionContext(oneTx)}}

// shapeSQL reads what the statement needs: the column count the guard compares, and for
// each optional column whether it is there with the plugin's type (1), there with another
// (2) or absent (0); and whether migration 011's guard exists.
const shapeSQL = `WITH col AS (
	SELECT a.attrelid, a.attname, a.atttypid FROM pg_catalog.pg_attribute a
	WHERE a.attrelid IN ('public."user"'::regclass, 'public."session"'::regclass) AND a.attnum > 0 AND NOT a.attisdropped
)
SELECT
	(SELECT sum(relnatts)::int FROM pg_catalog.pg_class WHERE oid IN ('public."user"'::regclass, 'public."session"'::regclass)),
	coalesce((SELECT CASE WHEN atttypid = 'boolean'::regtype THEN 1 ELSE 2 END FROM col
		WHERE attrelid = 'public."user"'::regclass AND attname = 'banned'), 0),
	coalesce((SELECT CASE WHEN atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype) THEN 1 ELSE 2 END FROM col
		WHERE attrelid = 'public."user"'::regclass AND attname = 'banExpires'), 0),
	coalesce((SELECT CASE WHEN atttypid IN ('text'::regtype, 'varchar'::regtype) THEN 1 ELSE 2 END FROM col
		WHERE attrelid = 'public."session"'::regclass AND attname = 'impersonatedBy'), 0),
	to_regprocedure('public.accounts_session_shape_is(integer)') IS NOT NULL`

// learnSessionShape reads the catalogs and picks the statements for what they show: by
// name when it can, the generic ones otherwise (or when the catalogs cannot be read).
func (db *DB) learnSessionShape(ctx context.Context) error {
	var columns, banned, banExpires, impersonatedBy int
	var guard bool
	err := db.transact(ctx, asLogin, eachRun, func(ctx context.Context, tx *txn) error {
		return tx.run(ctx, "read Better Auth's columns", &statement{sql: shapeSQL, read: func(rows pgx.Rows) error {
			for rows.Next() {
				if err := rows.Scan(&columns, &banned, &banExpires, &impersonatedBy, &guard); err != nil {
					return err
				}
			}
			return rows.Err()
		}})
	})
	// On failure, or for tables it cannot name, the statement in use stays: the generic one
	// (Open starts with it, and relearnSessionShape goes back to it first).
	if err != nil {
		return err
	}
	if !guard || banned == 2 || banExpires == 2 || impersonatedBy == 2 || (banExpires == 1 && banned == 0) {
		return nil
	}
	shape := &sessionShape{columns: columns, banned: banned == 1, banExpires: banExpires == 1, impersonatedBy: impersonatedBy == 1}
	db.session.Store(&contextStatements{shape: shape,
		sql: [...]string{eachRun: shapedSessionContext(eachRun, shape), oneTx: shapedSessionContext(oneTx, shape)}})
	return nil
}

// shapedSessionContext is the context statement reading the columns shape says exist, by
// name, behind the guard.
func shapedSessionContext(mode txMode, shape *sessionShape) string {
	banned, impersonatedBy := "false", "NULL::text"
	switch {
	case shape.banned && shape.banExpires:
		banned = `(u.banned IS TRUE AND (u."banExpires" IS NULL OR u."banExpires" > now()))`
	case shape.banned:
		banned = `u.banned IS TRUE`
	}
	if shape.impersonatedBy {
		impersonatedBy = `s."impersonatedBy"`
	}
	return sessionContext(mode, `
		SELECT s."userId" AS user_id, s."expiresAt" AS expires_at, `+banned+` AS banned,
			`+impersonatedBy+` AS impersonated_by
		FROM public."session" s JOIN public."user" u ON u.id = s."userId"
		WHERE s.token = $1 AND public.accounts_session_shape_is(`+strconv.Itoa(shape.columns)+`)`)
}

// genericSessionContext reads the optional columns through to_jsonb, where they exist.
func genericSessionContext(mode txMode) string {
	return sessionContext(mode, `
		SELECT s."userId" AS user_id, s."expiresAt" AS expires_at,
			(to_jsonb(u) ->> 'banned' = 'true' AND ((to_jsonb(u) ->> 'banExpires') IS NULL
				OR (to_jsonb(u) ->> 'banExpires')::timestamptz > now())) AS banned,
			to_jsonb(s) ->> 'impersonatedBy' AS impersonated_by
		FROM public."session" s JOIN public."user" u ON u.id = s."userId"
		WHERE s.token = $1`)
}

// Errors that mean the context statement no longer fits Better Auth's tables: the guard's,
// and what reading a column by name gives once it is gone or of another type.
const (
	codeShapeChanged     = "AC001"
	codeUndefinedColumn  = "42703"
	codeDatatypeMismatch = "42804"
)

// errShapeChanged asks transact to read the catalogs again and retry, once.
var errShapeChanged = errors.New("postgres: Better Auth's tables changed since they were read")

func shapeChanged(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case codeShapeChanged, codeUndefinedColumn, codeDatatypeMismatch, codeUndefinedFunction:
		return true
	}
	return false
}

// relearnSessionShape is what transact does on errShapeChanged from the statements used:
// the generic statement at once (it fits any tables), then the catalogs read again. Of the
// requests that fail together when the tables change, only the first reads the catalogs;
// the others find the statements already replaced.
func (db *DB) relearnSessionShape(ctx context.Context, used *contextStatements) {
	if db.session.CompareAndSwap(used, genericStatements) {
		_ = db.learnSessionShape(ctx)
	}
}
