package worker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/worker"
)

// scheduleWorker is a scripted version 2 worker: it announces one call of
// its first request, answers it after the go-ahead (after a blank line,
// which the driver skips), and then reads without ever answering.
const scheduleWorker = `read l
echo '{"id":1,"outcome":"ok","protocol":"sessioncheck-worker","version":2,"name":"sh","ops":["create","load","delete"],"features":["schedule"]}'
read l
echo '{"event":"fs","id":2,"seq":1,"call":"open","path":"s_x","flags":["O_RDONLY"]}'
read l
case "$l" in *'"op":"go"'*'"seq":1'*) ;; *) echo "bad go-ahead: $l" >&2; exit 3;; esac
echo
echo '{"id":2,"outcome":"not-found"}'
while read l; do :; done
`

// TestScheduleHook drives the scripted worker through an event, its
// go-ahead and the response, then kills it from another goroutine while
// Next waits for a line that never comes.
func TestScheduleHook(t *testing.T) {
	c, err := worker.Start([]string{"/bin/sh", "-c", scheduleWorker}, worker.Options{Version: 2})
	require.NoError(t, err)
	defer c.Kill()
	require.Equal(t, 2, c.Hello.Version)
	require.True(t, c.Hello.Has(worker.FeatureSchedule))

	id, err := c.Send(worker.Request{Op: "load", Key: "xxxxxxxx"})
	require.NoError(t, err)
	l, err := c.Next()
	require.NoError(t, err)
	require.NotNil(t, l.Event, "%s", l)
	require.Equal(t, worker.EventFS, l.Event.Event)
	require.Equal(t, id, *l.Event.ID)
	require.Equal(t, "open", l.Event.Call)
	require.Equal(t, []string{"O_RDONLY"}, l.Event.Flags)
	require.NoError(t, c.GoAhead(l.Event.Seq))
	l, err = c.Next()
	require.NoError(t, err)
	require.NotNil(t, l.Response, "%s", l)
	require.Equal(t, id, *l.Response.ID)
	require.Equal(t, "not-found", l.Response.Outcome)

	_, err = c.Send(worker.Request{Op: "load", Key: "xxxxxxxx"})
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() { _, err := c.Next(); got <- err }()
	time.Sleep(50 * time.Millisecond) // let Next wait
	c.Kill()
	select {
	case err := <-got:
		require.True(t, errors.Is(err, worker.ErrUnknownOutcome), "%v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Next still waits after Kill")
	}
	<-c.Exited()
	_, err = c.Send(worker.Request{Op: "load", Key: "xxxxxxxx"})
	require.ErrorIs(t, err, worker.ErrUnknownOutcome)
	require.NoError(t, c.Close(), "closing a killed worker reports nothing")
}
