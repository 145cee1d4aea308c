package proptest

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	_ "pgregory.net/rapid" // registers the -rapid.* flags this file sets
)

// rapid v1.3.0 has no per-call options: checks, steps and seed are package
// settings behind its -rapid.* flags, read when rapid.Check starts. The
// suite sets them through the flag package for the duration of one run and
// puts them back afterwards. settingsMu serializes every run of this package
// so that two runs never see each other's settings.
var settingsMu sync.Mutex

// settings remembers the rapid flags a run changed and their old values.
type settings struct {
	saved map[string]string
}

// set changes the rapid flag called name ("checks" for -rapid.checks),
// remembering its previous value for restore.
func (s *settings) set(name, value string) error {
	f := flag.Lookup("rapid." + name)
	if f == nil {
		return fmt.Errorf("proptest: rapid flag -rapid.%s is not registered (rapid version changed?)", name)
	}
	if s.saved == nil {
		s.saved = make(map[string]string)
	}
	if _, ok := s.saved[name]; !ok {
		s.saved[name] = f.Value.String()
	}
	if err := f.Value.Set(value); err != nil {
		return fmt.Errorf("proptest: setting -rapid.%s=%s: %w", name, value, err)
	}
	return nil
}

// restore puts every flag back.
func (s *settings) restore() {
	for name, v := range s.saved {
		_ = flag.Lookup("rapid." + name).Value.Set(v)
	}
}

// chosen reports whether the person running the tests chose the rapid
// setting name, through the RAPID_* environment variable or the flag.
func chosen(name string) bool {
	if _, ok := os.LookupEnv("RAPID_" + upper(name)); ok {
		return true
	}
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "rapid."+name {
			explicit = true
		}
	})
	return explicit
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// current returns the value of the rapid setting name as rapid will read it.
func current(name string) string { return flag.Lookup("rapid." + name).Value.String() }

func currentUint(name string) uint64 {
	n, _ := strconv.ParseUint(current(name), 10, 64)
	return n
}

// ensureTestingInit makes testing.Short usable outside `go test`: rapid
// calls it on every Check, and it panics unless testing.Init has run and
// the command line's flags have been parsed. testing.Init is a no-op when
// the test binary already called it; parsing no arguments leaves a
// program's own later flag.Parse free to parse its real ones.
var initOnce sync.Once

func ensureTestingInit() {
	initOnce.Do(func() {
		testing.Init()
		if !flag.Parsed() {
			_ = flag.CommandLine.Parse(nil)
		}
	})
}
