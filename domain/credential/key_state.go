package credential

// KeyState is where a key that seals stored values stands in its lifecycle
// (docs/database.md, "The key lifecycle").
type KeyState struct{ value string }

var (
	// KeyPrimary seals new values and opens old ones; it is the first configured key.
	KeyPrimary = KeyState{"primary"}
	// KeyActive opens the values sealed under it; a rotation re-seals them.
	KeyActive = KeyState{"active"}
	// KeyDisabled is configured but opens nothing: its values fail as if it were gone,
	// while it can still be turned back on.
	KeyDisabled = KeyState{"disabled"}
	// KeyMissing is a key id stored values name that is not configured: they cannot open.
	KeyMissing = KeyState{"missing"}
)

func (s KeyState) String() string { return s.value }

// KeyStatus is one configured key: its id and state, never its material.
type KeyStatus struct {
	ID    string
	State KeyState
}

// KeyUse is a key id with how many stored values it seals (each credential holds two).
type KeyUse struct {
	KeyStatus
	Sealed int
}

// SafeToDelete says a key can leave the configuration without any value becoming
// unreadable: it is disabled, so nothing depends on it opening, and it seals nothing.
func (u KeyUse) SafeToDelete() bool { return u.State == KeyDisabled && u.Sealed == 0 }
