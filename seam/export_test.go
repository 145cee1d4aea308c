package seam

// SetLockOpenedHook makes OS's file lock run hook between its open and its
// flock (nil: nothing), and returns the function that restores the default.
func SetLockOpenedHook(hook func(name string)) (restore func()) {
	if hook == nil {
		lockOpenedHook.Store(nil)
	} else {
		lockOpenedHook.Store(&hook)
	}
	return func() { lockOpenedHook.Store(nil) }
}

// SetLockRecheck turns OS's lock-file re-checks on or off (the guard
// switched off, for the test that shows it matters) and returns the
// function that turns them back on.
func SetLockRecheck(on bool) (restore func()) {
	lockNoRecheck.Store(!on)
	return func() { lockNoRecheck.Store(false) }
}
