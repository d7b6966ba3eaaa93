package main

import (
	"fmt"

	"github.com/brokerly/accounts/adapters/aesgcm"
)

func newCipher(cfg Config) (*aesgcm.Cipher, error) {
	keys, err := aesgcm.ParseKeys(cfg.CredentialKeys)
	if err != nil {
		return nil, fmt.Errorf("CREDENTIAL_KEYS: %w", err)
	}
	c, err := aesgcm.New(keys)
	if err != nil {
		return nil, fmt.Errorf("CREDENTIAL_KEYS: %w", err)
	}
	return c, nil
}
