package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode"
)

// fileVariables may instead be read from the file NAME_FILE names, as container secret
// mounts provide them, so the secret never sits in the process environment.
var fileVariables = []string{"BETTER_AUTH_SECRET", "BETTER_AUTH_SECRETS", "CREDENTIAL_KEYS"}

// maxSecretFile bounds what is read: a path that points at something huge (a device, a
// log) is refused instead of read into memory.
const maxSecretFile = 64 << 10

// withSecretFiles returns getenv answering each of fileVariables from its _FILE when that
// is set, and one problem per variable whose file cannot be used. Problems name the
// variables, never the path's contents.
func withSecretFiles(getenv func(string) string) (func(string) string, []error) {
	fromFiles := map[string]string{}
	var errs []error
	for _, name := range fileVariables {
		path := getenv(name + "_FILE")
		if path == "" {
			continue
		}
		if getenv(name) != "" {
			errs = append(errs, fmt.Errorf("%s and %s_FILE are both set; set one of them", name, name))
			continue
		}
		value, err := readSecretFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_FILE: %w", name, err))
			continue
		}
		fromFiles[name] = value
	}
	return func(key string) string {
		if v, ok := fromFiles[key]; ok {
			return v
		}
		return getenv(key)
	}, errs
}

// readSecretFile reads the file with its trailing white space (the newline editors and
// `echo` add) cut off.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the file (%s)", reason(err))
	}
	defer func() { _ = f.Close() }()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("cannot read the file (%s)", reason(err))
	case len(b) > maxSecretFile:
		return "", fmt.Errorf("the file is larger than %d KiB", maxSecretFile>>10)
	}
	value := strings.TrimRightFunc(string(b), unicode.IsSpace)
	if value == "" {
		return "", errors.New("the file is empty")
	}
	return value, nil
}

// reason is an error without the path it names: the operator knows which path they set.
func reason(err error) string {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err.Error()
	}
	return err.Error()
}
