package proptest

import "pgregory.net/rapid"

// handleState is the open session handle of a case (filled in when the
// handle lands).
type handleState struct{}

func (m *machine) handleActions() map[string]func(*rapid.T) { return nil }
