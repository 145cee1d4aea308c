package model_test

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sessioncheck/sessioncheck/model"
)

// keyPattern is the contract of DESIGN.md written as the regexp it quotes.
// It is the oracle ValidateKey is fuzzed against: a hand-written loop and a
// regexp are unlikely to share a mistake. Go's $ (without the m flag)
// matches only at the end of the text, unlike Perl's and Python's, which
// also match before a final newline; the seed "abcdefgh\n" pins that.
var keyPattern = regexp.MustCompile(`^[a-z0-9]{8,64}$`)

// keySeeds are the inputs every run of FuzzValidateKey starts from, and the
// inputs the meta-test below uses to show the property catches weak
// validators. Each line is an attack or an edge someone got wrong.
var keySeeds = []string{
	"",
	"abcdefg",  // 7: one short
	"abcdefgh", // 8: shortest valid
	strings.Repeat("a", 64),
	strings.Repeat("a", 65),
	"0123456789abcdefghijklmnopqrstuv", // a generated-length key
	"../../../../etc/passwd",
	"..%2f..%2fetc%2fpasswd",
	`..\..\..\windows\win.ini`, // gogs' first patch missed the backslash (CVE-2018-18925)
	"a/b/cdefgh",
	`a\b\cdefgh`,
	"abcdefgh\x00.txt", // NUL truncation in C-backed paths
	"abcdefgh\n",       // Perl-style $ would accept this
	"ABCDEFGHIJ",       // case-insensitive file systems alias upper and lower
	"abcdefg.",
	"........",
	"abcdefgh ",
	"аbcdefgh",         // Cyrillic а: a homoglyph of a
	"abcdefgh\u200b",   // zero-width space
	"abcdefg\xff",      // invalid UTF-8
	"\xc0\xafabcdefgh", // overlong encoding of '/'
	"s_abcdefgh",
	"-abcdefgh",
}

// keyProblem says how validate breaks the key contract on key, or returns
// "" when it keeps it. It is the property of FuzzValidateKey, written as a
// function of the validator so that a test can run it on broken ones.
func keyProblem(validate func(string) error, key string) (problem string) {
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("panicked: %v", r)
		}
	}()
	err := validate(key)
	want := keyPattern.MatchString(key)
	switch {
	case want && err != nil:
		return fmt.Sprintf("rejected a valid key: %v", err)
	case !want && err == nil:
		return "accepted a key that does not match " + keyPattern.String()
	case err != nil && !errors.Is(err, model.ErrInvalidKey):
		return fmt.Sprintf("error %q does not wrap ErrInvalidKey", err)
	case err == nil && strings.ContainsAny(key, "/\\.\x00"):
		return "accepted a key holding a path separator, a dot or NUL"
	case err == nil:
		// The store names files s_<key> in its directory; an accepted key
		// must keep that name a single element of that directory.
		const dir = "/sessions"
		name := filepath.Join(dir, "s_"+key)
		if filepath.Dir(name) != dir || filepath.Base(name) != "s_"+key {
			return fmt.Sprintf("accepted a key whose file name %q leaves %s", name, dir)
		}
	}
	return ""
}

// FuzzValidateKey checks that ValidateKey agrees with ^[a-z0-9]{8,64}$ on
// every string, never panics, wraps ErrInvalidKey when it refuses, and never
// lets a path separator, a dot or NUL into a file name.
func FuzzValidateKey(f *testing.F) {
	for _, s := range keySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if p := keyProblem(model.ValidateKey, key); p != "" {
			t.Fatalf("ValidateKey(%q) %s", key, p)
		}
	})
}

// weakValidators are plausible ways to get key validation wrong, each one
// a guard someone shipped or could ship. The property must catch each of
// them on the seeds alone, or it is not worth fuzzing with.
var weakValidators = map[string]func(string) error{
	// Length only, as Beaker adopts client IDs: traversal goes through.
	"length-only": func(k string) error {
		if len(k) < 8 || len(k) > 64 {
			return model.ErrInvalidKey
		}
		return nil
	},
	// Django before 1.2.5 (CVE-2011-0698) refused only os.path.sep; on
	// Windows that is '\', so '/' went through.
	"only-os-sep-windows": func(k string) error {
		if len(k) < 8 || len(k) > 64 || strings.Contains(k, `\`) {
			return model.ErrInvalidKey
		}
		return nil
	},
	// gogs' first fix for CVE-2018-18925 refused '.' and '/' but not '\'.
	"no-dot-slash": func(k string) error {
		if len(k) < 8 || len(k) > 64 || strings.ContainsAny(k, "./") {
			return model.ErrInvalidKey
		}
		return nil
	},
	// A regexp whose $ also matches before a final newline (Perl, Python re.match with $).
	"perl-dollar": func(k string) error {
		if !regexp.MustCompile(`^[a-z0-9]{8,64}\n?$`).MatchString(k) {
			return model.ErrInvalidKey
		}
		return nil
	},
	// Mixed case aliases two keys to one file on a case-insensitive file system.
	"mixed-case": func(k string) error {
		if !regexp.MustCompile(`^[A-Za-z0-9]{8,64}$`).MatchString(k) {
			return model.ErrInvalidKey
		}
		return nil
	},
	// Unicode letters: homoglyphs and invisible characters become keys.
	"unicode-letters": func(k string) error {
		if !regexp.MustCompile(`^[\p{Ll}\p{Nd}\x{200b}]{8,64}$`).MatchString(k) || len(k) > 64 {
			return model.ErrInvalidKey
		}
		return nil
	},
	// Off by one at the top.
	"max-65": func(k string) error {
		if !regexp.MustCompile(`^[a-z0-9]{8,65}$`).MatchString(k) {
			return model.ErrInvalidKey
		}
		return nil
	},
	// Refuses without saying the error is ErrInvalidKey.
	"bare-error": func(k string) error {
		if !keyPattern.MatchString(k) {
			return errors.New("bad key")
		}
		return nil
	},
	// Looks at the first byte without checking there is one.
	"index-panic": func(k string) error {
		if k[0] == '-' || !keyPattern.MatchString(k) {
			return model.ErrInvalidKey
		}
		return nil
	},
}

// TestKeyPropertyCatchesWeakValidators runs the fuzz property over the seed
// corpus (the f.Add seeds and testdata/fuzz/FuzzValidateKey) on each weak
// validator and requires a failure, and on ValidateKey and requires none.
func TestKeyPropertyCatchesWeakValidators(t *testing.T) {
	seeds := append(append([]string(nil), keySeeds...), readStringCorpus(t, "testdata/fuzz/FuzzValidateKey")...)
	for _, s := range seeds {
		if p := keyProblem(model.ValidateKey, s); p != "" {
			t.Errorf("reference: ValidateKey(%q) %s", s, p)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(weakValidators)) {
		v := weakValidators[name]
		caught := ""
		for _, s := range seeds {
			if p := keyProblem(v, s); p != "" {
				caught = fmt.Sprintf("%q: %s", s, p)
				break
			}
		}
		if caught == "" {
			t.Errorf("weak validator %s passes every seed: the property cannot catch it", name)
		} else {
			t.Logf("%s caught on %s", name, caught)
		}
	}
}

// readStringCorpus reads every file of a go-fuzz corpus directory whose one
// value is a string. A file that is not in that form fails the test rather
// than being skipped, so a corpus entry never silently stops counting.
func readStringCorpus(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	var out []string
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if len(lines) != 2 || lines[0] != "go test fuzz v1" ||
			!strings.HasPrefix(lines[1], "string(") || !strings.HasSuffix(lines[1], ")") {
			t.Fatalf("corpus file %s: want one string value, got %q", e.Name(), lines)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "string("), ")"))
		if err != nil {
			t.Fatalf("corpus file %s: %v", e.Name(), err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatalf("corpus %s is empty", dir)
	}
	return out
}

// TestNewKeyIsValid checks that generated keys pass validation and have the
// length whose entropy docs/SECURITY.md quotes, whatever bytes the random
// source gives, and that a failing source is an error, not a short key.
func TestNewKeyIsValid(t *testing.T) {
	for i := 0; i < 200; i++ {
		k, err := model.NewKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(k) != model.KeyLength || keyProblem(model.ValidateKey, k) != "" || model.ValidateKey(k) != nil {
			t.Fatalf("NewKey gave %q", k)
		}
	}
	// Bytes all at or above the rejection limit give no characters.
	if k, err := model.NewKey(strings.NewReader(strings.Repeat("\xff", 1000))); err == nil {
		t.Fatalf("NewKey from a source of rejected bytes gave %q, want an error", k)
	}
}
