package explore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// toy is a deliberately small file store used to test the explorer itself,
// independently of the reference store: with every bug switched off it is
// correct, and each switch is one historical bug. The catalogue's variants
// are tested in variants_test.go.
type toy struct {
	env           Env
	inPlace       bool // write-in-place: truncate and rewrite the session file
	noExcl        bool // create-without-excl: check, then rename over
	truncThenLoad bool // truncate-then-load: Touch truncates before it reads
	deadlock      bool // Touch takes its key's lock twice
}

const toyFlags = syscall.O_NOFOLLOW | syscall.O_CLOEXEC

func (t *toy) path(k string) string { return filepath.Join(t.env.Dir, k) }

func (t *toy) lock(k string) (func() error, error) {
	return t.env.FS.Lock(filepath.Join(t.env.Dir, ".lock-"+k), seam.FileLock)
}

func encode(r model.Record) []byte {
	b, _ := json.Marshal(r.Values.Map())
	return append([]byte(strconv.FormatInt(r.Expiry.UnixNano(), 10)+"\n"), b...)
}

func (t *toy) read(k string) (model.Slot, error) {
	f, err := t.env.FS.OpenFile(t.path(k), os.O_RDONLY|toyFlags, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return model.Slot{}, nil
	}
	if err != nil {
		return model.Slot{}, err
	}
	data, err := io.ReadAll(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return model.Slot{}, err
	}
	return decode(k, data)
}

func decode(k string, data []byte) (model.Slot, error) {
	head, body, ok := strings.Cut(string(data), "\n")
	ns, err := strconv.ParseInt(head, 10, 64)
	var m map[string]string
	if !ok || err != nil || json.Unmarshal([]byte(body), &m) != nil {
		return model.Slot{}, &model.CorruptError{Key: k, Reason: fmt.Sprintf("%d bytes do not decode", len(data))}
	}
	return model.Slot{Stored: true, Record: model.Record{Values: model.NewValues(m), Expiry: time.Unix(0, ns).UTC()}}, nil
}

// writeTemp writes r to a fresh temporary file and returns its name.
func (t *toy) writeTemp(k string, r model.Record) (string, error) {
	tmp := filepath.Join(t.env.Dir, fmt.Sprintf(".tmp-%s-%d", k, t.env.Process))
	f, err := t.env.FS.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|toyFlags, 0o600)
	if err != nil {
		return "", err
	}
	_, err = f.Write(encode(r))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return tmp, err
}

func (t *toy) write(k string, r model.Record) error {
	if t.inPlace {
		f, err := t.env.FS.OpenFile(t.path(k), os.O_WRONLY|os.O_TRUNC|toyFlags, 0o600)
		if err != nil {
			return err
		}
		_, err = f.Write(encode(r))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	tmp, err := t.writeTemp(k, r)
	if err != nil {
		return err
	}
	return t.env.FS.Rename(tmp, t.path(k))
}

func (t *toy) Create(v model.Values, exp time.Time) (string, error) {
	r := model.Record{Values: v, Expiry: exp}
	for range 10 {
		k, err := model.NewKey(t.env.Rand)
		if err != nil {
			return "", err
		}
		if t.noExcl {
			if _, err := t.env.FS.Lstat(t.path(k)); err == nil {
				continue
			}
			tmp, err := t.writeTemp(k, r)
			if err != nil {
				return "", err
			}
			return k, t.env.FS.Rename(tmp, t.path(k))
		}
		tmp, err := t.writeTemp(k, r)
		if err != nil {
			return "", err
		}
		err = t.env.FS.RenameNoReplace(tmp, t.path(k))
		if errors.Is(err, fs.ErrExist) {
			if err := t.env.FS.Remove(tmp); err != nil {
				return "", err
			}
			continue
		}
		return k, err
	}
	return "", errors.New("toy: no free key")
}

func (t *toy) Load(k string) (model.Record, error) {
	s, err := t.read(k)
	if err != nil {
		return model.Record{}, err
	}
	if !s.Stored || !s.Record.LiveAt(t.env.Clock()) {
		return model.Record{}, model.ErrNotFound
	}
	return s.Record, nil
}

func (t *toy) locked(k string, f func() error) error {
	unlock, err := t.lock(k)
	if err != nil {
		return err
	}
	err = f()
	if uerr := unlock(); err == nil {
		err = uerr
	}
	return err
}

func (t *toy) Save(k string, v model.Values, exp time.Time) error {
	return t.locked(k, func() error {
		s, err := t.read(k)
		if err != nil {
			return err
		}
		if !s.Stored || !s.Record.LiveAt(t.env.Clock()) {
			return model.ErrNotFound
		}
		return t.write(k, model.Record{Values: v, Expiry: exp})
	})
}

func (t *toy) Touch(k string, exp time.Time) error {
	return t.locked(k, func() error {
		if t.deadlock {
			unlock, err := t.lock(k)
			if err != nil {
				return err
			}
			defer unlock()
		}
		if t.truncThenLoad {
			f, err := t.env.FS.OpenFile(t.path(k), os.O_RDWR|os.O_TRUNC|toyFlags, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			data, err := io.ReadAll(f)
			if err != nil {
				return err
			}
			s, err := decode(k, data)
			if err != nil {
				return err
			}
			_, err = f.Write(encode(model.Record{Values: s.Record.Values, Expiry: exp}))
			return err
		}
		s, err := t.read(k)
		if err != nil {
			return err
		}
		if !s.Stored || !s.Record.LiveAt(t.env.Clock()) {
			return model.ErrNotFound
		}
		return t.write(k, model.Record{Values: s.Record.Values, Expiry: exp})
	})
}

func (t *toy) Delete(k string) error {
	return t.locked(k, func() error {
		if err := t.env.FS.Remove(t.path(k)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

func (t *toy) Exists(k string) (bool, error) {
	_, err := t.Load(k)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (t *toy) Cycle(k string) (string, error) {
	var nk string
	err := t.locked(k, func() error {
		s, err := t.read(k)
		if err != nil {
			return err
		}
		if !s.Stored || !s.Record.LiveAt(t.env.Clock()) {
			return model.ErrNotFound
		}
		if nk, err = t.Create(s.Record.Values, s.Record.Expiry); err != nil {
			return err
		}
		return t.env.FS.Remove(t.path(k))
	})
	return nk, err
}

func (t *toy) ClearExpired() ([]string, error) {
	names, err := t.env.FS.ReadDir(t.env.Dir)
	if err != nil {
		return nil, err
	}
	removed := []string{}
	for _, k := range names {
		if model.ValidateKey(k) != nil {
			continue
		}
		err := t.locked(k, func() error {
			s, err := t.read(k)
			if err != nil || !s.Stored || s.Record.LiveAt(t.env.Clock()) {
				return err
			}
			removed = append(removed, k)
			return t.env.FS.Remove(t.path(k))
		})
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// toyOpener opens a toy store configured by set.
func toyOpener(set func(*toy)) Opener {
	return func(env Env) (model.Store, error) {
		if _, err := env.FS.Lstat(env.Dir); err != nil {
			return nil, err
		}
		t := &toy{env: env}
		if set != nil {
			set(t)
		}
		return t, nil
	}
}
