package impl

import "github.com/sessioncheck/sessioncheck/seam"

// Temporary aliases while the importers move to package seam.
type (
	FS       = seam.FS
	File     = seam.File
	LockKind = seam.LockKind
)

const (
	FileLock          = seam.FileLock
	ProcessLock       = seam.ProcessLock
	ProcessSharedLock = seam.ProcessSharedLock
)

var OS = seam.OS
