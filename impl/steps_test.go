package impl_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// TestStepsReachEveryOperation shows that every operation a historical bug
// lives in goes through a step of its own — Load, Exists, Save, Touch,
// Delete, Cycle, a file's sync and the directory's — and that the finer
// steps are separate: each operation calls its own step, and replacing
// Touch does not change Save.
func TestStepsReachEveryOperation(t *testing.T) {
	calls := map[string]int{}
	ref := impl.ReferenceSteps()
	st := impl.ReferenceSteps()
	st.Load = func(s *impl.Store, key string) (model.Record, error) { calls["Load"]++; return ref.Load(s, key) }
	st.Exists = func(s *impl.Store, key string) (bool, error) { calls["Exists"]++; return ref.Exists(s, key) }
	st.Save = func(s *impl.Store, key string, v model.Values, exp time.Time) error {
		calls["Save"]++
		return ref.Save(s, key, v, exp)
	}
	st.Delete = func(s *impl.Store, key string) error { calls["Delete"]++; return ref.Delete(s, key) }
	st.Cycle = func(s *impl.Store, key string) (string, error) { calls["Cycle"]++; return ref.Cycle(s, key) }
	st.SyncFile = func(s *impl.Store, f seam.File) error { calls["SyncFile"]++; return ref.SyncFile(s, f) }
	st.SyncDir = func(s *impl.Store) error { calls["SyncDir"]++; return ref.SyncDir(s) }
	// A Touch that forgets the new expiry: a bug confined to Touch.
	st.Touch = func(s *impl.Store, key string, exp time.Time) error { calls["Touch"]++; return nil }
	s := open(t, privateDir(t), impl.Options{Steps: &st})

	key, err := s.Create(vals(), later)
	require.NoError(t, err)
	require.Equal(t, 1, calls["SyncFile"], "Create syncs its temporary file through SyncFile")
	require.Equal(t, 1, calls["SyncDir"], "Create syncs the directory through SyncDir")
	_, err = s.Load(key)
	require.NoError(t, err)
	_, err = s.Exists(key)
	require.NoError(t, err)
	require.NoError(t, s.Save(key, vals(), later.Add(time.Hour)))
	require.NoError(t, s.Touch(key, later.Add(2*time.Hour)))
	rec, err := s.Load(key)
	require.NoError(t, err)
	require.Equal(t, later.Add(time.Hour), rec.Expiry, "the replaced Touch changed nothing; Save, a step of its own, still worked")
	key, err = s.Cycle(key)
	require.NoError(t, err)
	require.NoError(t, s.Delete(key))
	for _, name := range []string{"Load", "Exists", "Save", "Touch", "Delete", "Cycle"} {
		require.Positive(t, calls[name], "%s did not go through its step", name)
	}
}
