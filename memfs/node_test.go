package memfs_test

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/memfs"
)

// Node calls and path calls work on one disk with one durability model.
func TestNodeDurability(t *testing.T) {
	disk := memfs.New(nil)
	require.NoError(t, disk.MkdirAll("/d", 0o700))
	dir, errno := disk.Root().Lookup("d")
	require.Zero(t, errno)
	f, created, errno := dir.Create("tmp", 0o600, true)
	require.Zero(t, errno)
	require.True(t, created)
	_, _, errno = dir.Create("tmp", 0o600, true)
	require.Equal(t, syscall.EEXIST, errno)
	_, errno = f.WriteAt([]byte("synced"), 0)
	require.Zero(t, errno)
	require.Zero(t, f.Sync())
	require.Equal(t, syscall.EEXIST, dir.Rename("tmp", dir, "tmp", true))
	require.Zero(t, dir.Rename("tmp", dir, "sess", true))
	require.Zero(t, dir.Sync())
	_, errno = f.WriteAt([]byte("UN"), 0)
	require.Zero(t, errno)

	got, err := disk.ReadFile("/d/sess")
	require.NoError(t, err)
	require.Equal(t, "UNnced", string(got))
	got, err = disk.Crash().ReadFile("/d/sess")
	require.NoError(t, err)
	require.Equal(t, "synced", string(got))

	// An unsynced unlink comes back after a crash; the open node still reads.
	require.Zero(t, dir.Unlink("sess"))
	buf := make([]byte, 16)
	k, errno := f.ReadAt(buf, 0)
	require.Zero(t, errno)
	require.Equal(t, "UNnced", string(buf[:k]))
	_, errno = dir.Lookup("sess")
	require.Equal(t, syscall.ENOENT, errno)
	got, err = disk.Crash().ReadFile("/d/sess")
	require.NoError(t, err)
	require.Equal(t, "synced", string(got))

	sub, errno := dir.Mkdir("sub", 0o700)
	require.Zero(t, errno)
	require.Equal(t, syscall.EINVAL, dir.Rename("sub", sub, "x", false), "a directory into itself")
	require.Equal(t, syscall.ENOTEMPTY, disk.Root().Rmdir("d"))
	require.Zero(t, f.Truncate(2))
	require.Equal(t, int64(2), f.Attr().Size)
	entries, errno := dir.Entries()
	require.Zero(t, errno)
	require.Len(t, entries, 1)
	require.Equal(t, "sub", entries[0].Name)
	require.Equal(t, sub, entries[0].Node)
}
