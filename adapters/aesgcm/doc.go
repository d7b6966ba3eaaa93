// Package aesgcm is the ports.Cipher for stored broker credentials: AES-256-GCM with a
// fresh random 96-bit nonce per value (crypto/cipher.NewGCMWithRandomNonce).
//
// A stored value is {key_id, nonce‖ciphertext‖tag}. The key id travels beside the bytes so
// that keys can be rotated: CREDENTIAL_KEYS lists every key that may still decrypt, the
// first one being the primary that seals new values; a key marked ":disabled" stays listed
// but opens nothing. Rotation is: add the new key in front, rewrap old rows, disable the
// old key, and drop it once nothing is sealed under it (docs/database.md).
//
// Each value is bound, as associated data, to where it is stored (format version, table,
// column, owner, credential id), so a ciphertext copied into another row, user or column
// fails to open rather than yielding someone else's secret.
package aesgcm
