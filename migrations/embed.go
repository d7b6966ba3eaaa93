// Package migrations holds the service's schema as plain SQL files, embedded in the binary
// so that `migrate` needs nothing but the executable. Files apply in name order, each in its
// own transaction; a file, once released, never changes: add a new one instead.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed *.sql
var files embed.FS

// FS returns the embedded migration files (the *.sql files at its root).
func FS() fs.FS { return files }
