// Package django holds the checks of Django's file session backend, run
// through the worker in worker.py (see README.md). They need Debian's
// python3-django; under CI=true its absence is a failure, elsewhere a skip.
package django

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/linearizability"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
)

// proptestConfig bounds a property-suite run over the worker: each case
// costs a few milliseconds per operation in Python, and shrinking is what
// takes the time.
func proptestConfig(seed uint64) proptest.Config {
	return proptest.Config{Seed: seed, Checks: 100, ShrinkTime: 10 * time.Second}
}

// The pre-#6984 order is caught by the property suite: an untouched save
// (a request that never reads its session, saved because of
// SESSION_SAVE_EVERY_REQUEST) truncates the file, then loads it, finds it
// empty, and re-keys the session, dropping its data.
func TestDjango2007CaughtByProptest(t *testing.T) {
	p := pool(t, "2007")
	for _, seed := range []uint64{1, 2, 3} {
		res := proptest.Check(p.Open, proptestConfig(seed))
		t.Logf("seed %d: %s\n%s", seed, res.Verdict, res.Report)
		require.Equal(t, proptest.Violation, res.Verdict, "seed %d: the 2007 order must be caught", seed)
		require.Contains(t, res.Report, "without accessing", "seed %d: the counterexample must be the untouched save", seed)
		require.LessOrEqual(t, res.Steps, 4, "seed %d: the counterexample must be short", seed)
	}
}

// direct runs one scripted sequence against the worker through the model:
// every result must be allowed by model.State.Check, or the returned error
// says what the model expected.
type direct struct {
	t     *testing.T
	store model.Store
	state model.State
	now   time.Time
}

func openDirect(t *testing.T, mode string) *direct {
	t.Helper()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	d := &direct{t: t, now: now}
	st, err := pool(t, mode).Open(t.TempDir(), func() time.Time { return d.now })
	require.NoError(t, err)
	d.store = st
	return d
}

// TestDjango2007UntouchedSave is the #6984 symptom on its own: the data is
// gone and the key has changed. Django as shipped keeps both.
func TestDjangoUntouchedSave(t *testing.T) {
	for _, mode := range []string{"2007", "shipped"} {
		t.Run(mode, func(t *testing.T) {
			d := openDirect(t, mode)
			values := model.NewValues(map[string]string{"_auth_user_id": "42"})
			key, err := d.store.Create(values, d.now.Add(time.Hour))
			require.NoError(t, err)
			err = d.store.Touch(key, d.now.Add(2*time.Hour)) // the untouched save
			rec, lerr := d.store.Load(key)
			if mode == "2007" {
				require.ErrorIs(t, err, model.ErrNotFound, "the untouched save re-keys the session (the worker reports the old key gone)")
				require.NoError(t, lerr)
				require.Equal(t, 0, rec.Values.Len(), "the old key's file holds an empty session: the data is lost")
				return
			}
			require.NoError(t, err)
			require.NoError(t, lerr)
			require.Equal(t, values, rec.Values)
			require.True(t, rec.Expiry.Equal(d.now.Add(2*time.Hour)))
		})
	}
}

// TestDjangoShippedProptest runs the property suite on Django as shipped
// and reports what it finds. The sequential contract differences it meets
// first are pinned down one by one in TestDjangoContractDifferences.
func TestDjangoShippedProptest(t *testing.T) {
	p := pool(t, "shipped")
	start := time.Now()
	res := proptest.Check(p.Open, proptestConfig(1))
	t.Logf("Django 3.2 file backend, proptest: %s in %.1fs after %d passing cases\n%s", res.Verdict, time.Since(start).Seconds(), res.Cases, res.Report)
	require.NotEqual(t, proptest.Error, res.Verdict, "the suite could not run: %v", res.Err)
	require.Equal(t, proptest.Violation, res.Verdict, "Django's exists() is a stat and its save() does not check expiry: the suite must see one of them")
}

// TestDjangoContractDifferences pins each sequential difference between
// Django's file backend and the model that FINDINGS.md reports, each a
// sequence the model refuses.
func TestDjangoContractDifferences(t *testing.T) {
	type step func(d *direct) (model.Op, model.Result)
	create := func(key *string, vals map[string]string, in time.Duration) step {
		return func(d *direct) (model.Op, model.Result) {
			op := model.Op{Kind: model.OpCreate, Values: model.NewValues(vals), Expiry: d.now.Add(in), Now: d.now}
			k, err := d.store.Create(op.Values, op.Expiry)
			*key = k
			return op, model.Result{Outcome: model.OutcomeOf(err), Key: k}
		}
	}
	advance := func(by time.Duration) step {
		return func(d *direct) (model.Op, model.Result) { d.now = d.now.Add(by); return model.Op{}, model.Result{} }
	}
	cases := []struct {
		name  string
		steps func(key *string) []step
		last  func(d *direct, key string) (model.Op, model.Result)
	}{
		{"exists-is-a-stat", func(k *string) []step {
			return []step{create(k, map[string]string{"a": "1"}, time.Minute), advance(time.Minute)}
		}, func(d *direct, key string) (model.Op, model.Result) {
			ok, err := d.store.Exists(key)
			return model.Op{Kind: model.OpExists, Key: key, Now: d.now}, model.Result{Outcome: model.OutcomeOf(err), Exists: ok}
		}},
		{"save-revives-expired", func(k *string) []step {
			return []step{create(k, map[string]string{"a": "1"}, time.Minute), advance(time.Minute)}
		}, func(d *direct, key string) (model.Op, model.Result) {
			op := model.Op{Kind: model.OpSave, Key: key, Values: model.NewValues(map[string]string{"a": "2"}), Expiry: d.now.Add(time.Hour), Now: d.now}
			err := d.store.Save(key, op.Values, op.Expiry)
			return op, model.Result{Outcome: model.OutcomeOf(err)}
		}},
		{"whole-second-expiry", func(k *string) []step {
			return []step{create(k, map[string]string{"a": "1"}, 1500*time.Millisecond), advance(time.Second)}
		}, func(d *direct, key string) (model.Op, model.Result) {
			rec, err := d.store.Load(key)
			return model.Op{Kind: model.OpLoad, Key: key, Now: d.now}, model.Result{Outcome: model.OutcomeOf(err), Record: rec}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := openDirect(t, "shipped")
			var key string
			for _, s := range c.steps(&key) {
				op, got := s(d)
				if op.Kind == 0 {
					continue
				}
				next, err := d.state.Check(op, got)
				require.NoError(t, err, "the setup must agree with the model")
				d.state = next
			}
			op, got := c.last(d, key)
			_, err := d.state.Check(op, got)
			require.Error(t, err, "Django's answer %v to %v must differ from the model", got, op)
			t.Logf("%s: %v", c.name, err)
		})
	}
}

// linConfig is the concurrent workload for lin-processes over Django.
func linConfig(t *testing.T, seed uint64) linearizability.Config {
	return linearizability.Config{
		Workload:  linearizability.Workload{Clients: 3, Keys: 2, Operations: 8, Seed: seed},
		Histories: 20,
		Budget:    25 * time.Second,
		ReportDir: t.TempDir(),
		OpTimeout: 20 * time.Second,
	}
}

// TestDjangoLinProcesses runs lin-processes over Django as shipped: every
// client a separate Python process. The verdict is reported; any violation
// must come with its visualization.
func TestDjangoLinProcesses(t *testing.T) {
	argv := workerArgv(t, "shipped")
	for _, v := range []struct {
		name string
		argv []string
		past int
	}{
		{"all-ops", argv, 0},
		// Without exists() (a stat) and without expired sessions, what is
		// left is what concurrency alone does.
		{"live-no-exists", append(append([]string{}, argv...), "--ops=create,load,save,touch,delete,cycle,clear-expired"), -1},
	} {
		t.Run(v.name, func(t *testing.T) {
			cfg := linConfig(t, 1)
			cfg.PastPercent = v.past
			res, err := linearizability.CheckProcesses(v.argv, cfg)
			require.NoError(t, err)
			t.Logf("lin-processes %s: %s, %d histories, %d operations (%d unknown, %d failed) in %.1fs\n%s\nvisualization: %s",
				v.name, res.Verdict, res.Histories, res.Operations, res.UnknownOps, res.FailedOps, res.Seconds, res.Detail, res.Visualization)
			if res.Verdict == linearizability.Violation {
				require.FileExists(t, res.Visualization)
			}
			require.NotEqual(t, linearizability.Unknown, res.Verdict, res.Detail)
		})
	}
}

// writeArtifact keeps a counterexample where FINDINGS.md points
// ($SESSIONCHECK_FINDINGS_DIR, default: the test's temporary directory).
func writeArtifact(t *testing.T, name, text string) {
	t.Helper()
	dir := os.Getenv("SESSIONCHECK_FINDINGS_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	t.Logf("wrote %s", path)
}
