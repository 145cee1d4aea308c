// Package seam is the file-system seam between a session store and the
// file system: the FS and File interfaces, the lock kinds a store asks
// for, and OS, the real file system, as the default.
//
// It is its own small package so that everything standing behind a
// store — the in-memory disk (memfs), the call recorder (memfs/hookfs),
// the controlled scheduler (explore), the fault injector and the crash
// simulator — depends on the seam alone, not on the reference store in
// package impl.
package seam
