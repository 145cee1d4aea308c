package worker

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/model"
)

// A Server with Ops declares only those and refuses the others with an
// error response, before the store is called.
func TestServerOps(t *testing.T) {
	dir := t.TempDir()
	srv := &Server{Name: "test/ops", Ops: []string{"create", "load", "delete"}, Open: func(cfg Config) (model.Store, error) {
		return nil, nil // never called for a refused op; open itself is fine
	}}
	in := strings.Join([]string{
		`{"id":1,"op":"hello","version":1}`,
		`{"id":2,"op":"open","dir":"` + dir + `","now":"` + FormatTime(time.Unix(0, 0)) + `"}`,
		`{"id":3,"op":"clear-expired"}`,
	}, "\n") + "\n"
	var out bytes.Buffer
	require.NoError(t, srv.Serve(strings.NewReader(in), &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	require.Contains(t, lines[0], `"ops":["create","load","delete"]`)
	require.Contains(t, lines[2], `"error":"op \"clear-expired\" is not supported by this worker"`)
}
